import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { until } from '../helpers/wait.js';
import {
  appInfo,
  diagnosesOf,
  postFrames,
  type Reply,
  send,
  startDrainWith,
} from './drain-helpers.js';
import { STORE_KINDS } from './store-kinds.js';

const stamp = (i: number) =>
  `2026-03-02T10:15:${String(10 + Math.floor(i / 1000)).padStart(2, '0')}.${String(i % 1000).padStart(6, '0')}+00:00`;

for (const makeKind of STORE_KINDS) {
  const kind = makeKind();
  const startDrainProcess = (
    place: string,
    args: readonly string[] = [],
    env?: NodeJS.ProcessEnv,
  ) => startDrainWith([...kind.drainArgs(place), ...args], env);
  describe(`h13 drain on ${kind.name}: nothing acknowledged is lost`, () => {
    before(() => kind.setup());
    after(() => kind.teardown());

    it('kill -9 right after a 2xx: every acknowledged line is in the database, and the restarted drain serves it', async () => {
      const db = await kind.place('kill');
      const first = await startDrainProcess(db);
      const acked = new Set<string>();
      let killed = false;
      let batch = 0;
      const KILL_AFTER = 12;
      const sendOne = async (): Promise<void> => {
        while (!killed) {
          const b = batch++;
          const lines = Array.from(
            { length: 40 },
            (_, i) => `${stamp(b * 40 + i)} app[web.1]: batch=${b} line=${i} mark=${randomUUID()}`,
          );
          let r: Reply;
          try {
            r = await postFrames(first.url, 'durable', lines, `F${b}`);
          } catch {
            return; // in flight when the process died: never acknowledged
          }
          if (r.status !== 200) return;
          for (const l of lines) acked.add(l);
          if (batch >= KILL_AFTER && !killed) {
            killed = true;
            first.proc.child.kill('SIGKILL');
          }
        }
      };
      // Four senders at once, so other batches are mid-commit when the kill lands.
      await Promise.all([sendOne(), sendOne(), sendOne(), sendOne()]);
      assert.equal(await first.proc.exited(), 'SIGKILL');
      assert.ok(acked.size >= 40 * 8, `acknowledged ${acked.size} lines`);

      const stored = new Set(
        (await kind.sql(db, "SELECT line FROM lines WHERE app = 'durable'")).map(
          (r) => r.line as string,
        ),
      );
      const missing = [...acked].filter((l) => !stored.has(l));
      assert.deepEqual(missing, [], `${missing.length} acknowledged lines lost`);

      const second = await startDrainProcess(db);
      try {
        const info = await appInfo(second.url, 'durable');
        assert.ok((info?.counters.lines ?? 0) >= acked.size);
      } finally {
        second.proc.kill();
      }
    });

    it('an H13 killed before its window closed is diagnosed by the restarted drain, once', async () => {
      const db = await kind.place('replay');
      const first = await startDrainProcess(db, ['--window', '1s']);
      const id = randomUUID();
      const lines = [
        `${stamp(1)} app[web.1]: Error: boom`,
        `${stamp(2)} app[web.1]:     at handler (/app/server.js:12:11)`,
        `${stamp(3)} heroku[router]: at=error code=H13 desc="Connection closed without response" method=GET path="/x" host=a.herokuapp.com request_id=${id} fwd="203.0.113.9" dyno=web.1 connect=0ms service=5ms status=503 bytes=0 protocol=https`,
        `${stamp(4)} heroku[web.1]: Process exited with status 1`,
      ];
      const r = await postFrames(first.url, 'replayed', lines, 'R1');
      assert.equal(r.status, 200);
      first.proc.child.kill('SIGKILL');
      await first.proc.exited();

      const second = await startDrainProcess(db, ['--window', '1s']);
      try {
        await until(
          async () => (await diagnosesOf(second.url, 'replayed')).length > 0,
          10_000,
          'the replayed H13',
        );
        const ds = await diagnosesOf(second.url, 'replayed');
        assert.deepEqual(
          ds.map((x) => [x.code, x.requestId]),
          [['H13', id]],
        );
      } finally {
        second.proc.kill();
      }
      // A third start replays the same lines again: the diagnosis is not stored twice.
      const third = await startDrainProcess(db, ['--window', '1s']);
      try {
        // SQLite replays at start; on PostgreSQL the process taking the app over does.
        await third.proc.waitFor(/event=(?:replayed|analysis-taken) app=replayed/);
        const info = await appInfo(third.url, 'replayed');
        assert.equal(info?.diagnoses, 1);
      } finally {
        third.proc.kill();
      }
    });

    it('generates a password at first start, prints it once, keeps only its hash; SIGTERM exits 0', async () => {
      const db = await kind.place('password');
      const first = await startDrainProcess(db, [], { H13_DRAIN_PASSWORD: '' });
      const m = /password: (\S+)/.exec(first.proc.stderr());
      assert.ok(m !== null, first.proc.stderr());
      const password = m[1] as string;
      const auth = `Basic ${Buffer.from(`h13:${password}`).toString('base64')}`;
      assert.equal((await send(first.url, { path: '/api/apps', auth })).status, 200);
      first.proc.child.kill('SIGTERM');
      assert.equal(await first.proc.exited(), 0);

      const settings = (await kind.sql(db, 'SELECT value FROM settings')).map(
        (r) => r.value as string,
      );
      assert.ok(!settings.some((v) => v.includes(password)), 'the password itself is not stored');

      const second = await startDrainProcess(db, [], { H13_DRAIN_PASSWORD: '' });
      try {
        assert.doesNotMatch(second.proc.stderr(), /password:/);
        assert.equal((await send(second.url, { path: '/api/apps', auth })).status, 200);
      } finally {
        second.proc.kill();
      }
    });
  });
}
