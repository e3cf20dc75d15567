/**
 * Issue 17 item 4: several `h13 drain` processes on one PostgreSQL, one app's frames split
 * between them, make the same diagnoses as one process fed everything; when the process
 * analysing the app is killed, another takes it over and nothing is lost or doubled.
 */

import assert from 'node:assert/strict';
import { get, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { until, withTimeout } from '../helpers/wait.js';
import { BASIC, type DrainProcess, postFrames, send, startDrainWith } from './drain-helpers.js';
import { postgresKind, sqliteKind } from './store-kinds.js';

const APP = 'shop';
const WINDOW = ['--window', '1s'];

const stamp = (ms: number) => {
  const d = new Date(Date.UTC(2026, 2, 2, 10, 0, 0) + Math.floor(ms));
  return `${d.toISOString().slice(0, 19)}.${String(d.getUTCMilliseconds() * 1000).padStart(6, '0')}+00:00`;
};
const router = (ms: number, fields: string) =>
  `${stamp(ms)} heroku[router]: ${fields} host=shop.herokuapp.com fwd="203.0.113.9" protocol=https`;

/** Incidents 3 s of log time apart (over the 1 s window), each with ordinary traffic around it. */
function stream(incidents: number): { lines: string[]; errors: number } {
  const lines: string[] = [];
  for (let i = 0; i < incidents; i++) {
    const t = i * 3000;
    const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    for (let k = 0; k < 3; k++)
      lines.push(
        router(
          t + k,
          `at=info method=GET path="/ok" request_id=ok-${i}-${k} dyno=web.2 connect=0ms service=3ms status=200 bytes=100`,
        ),
      );
    if (i % 2 === 0) {
      lines.push(`${stamp(t + 10)} app[web.1]: Error: boom ${i}`);
      lines.push(`${stamp(t + 11)} app[web.1]:     at handler (/app/server.js:12:11)`);
      lines.push(
        router(
          t + 12,
          `at=error code=H13 desc="Connection closed without response" method=GET path="/crash/${i}" request_id=${id} dyno=web.1 connect=0ms service=5ms status=503 bytes=0`,
        ),
      );
      lines.push(`${stamp(t + 13)} heroku[web.1]: Process exited with status 1`);
      lines.push(`${stamp(t + 400)} heroku[web.1]: State changed from crashed to starting`);
    } else {
      lines.push(
        router(
          t + 10,
          `at=error code=H12 desc="Request timeout" method=GET path="/slow/${i}" request_id=${id} dyno=web.2 connect=0ms service=30000ms status=503 bytes=0`,
        ),
      );
    }
  }
  return { lines, errors: incidents };
}

function batches(lines: readonly string[], size: number): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < lines.length; i += size) out.push(lines.slice(i, i + size));
  return out;
}

async function post(d: DrainProcess, lines: readonly string[], frame: string): Promise<void> {
  const r = await postFrames(d.url, APP, lines, frame);
  assert.equal(r.status, 200, r.text);
}

/** The keys of the diagnosis events a page following `url`'s live events receives. */
async function follow(url: string): Promise<{ keys: Set<string>; res: IncomingMessage }> {
  const res = await withTimeout(
    new Promise<IncomingMessage>((resolve, reject) => {
      get(
        `${url}/events?app=${APP}`,
        { headers: { authorization: BASIC }, agent: false },
        resolve,
      ).on('error', reject);
    }),
    10_000,
    'GET /events',
  );
  assert.equal(res.statusCode, 200);
  const keys = new Set<string>();
  let text = '';
  res.setEncoding('utf8').on('data', (d: string) => {
    text += d;
    for (const m of text.matchAll(/event: diagnosis\ndata: (.*)\n/g))
      keys.add((JSON.parse(m[1] as string) as { key: string }).key);
  });
  return { keys, res };
}

/** A diagnosis as the store keys it (the key hashes the router line and its time), with its cause. */
type Row = Record<string, unknown>;
const shape = (rows: Row[]) =>
  rows.map((r) => `${r.dkey as string} ${r.code as string} ${r.cause as string}`).sort();

describe('several h13 drain processes on one PostgreSQL', () => {
  const pgs = postgresKind();
  const sqlite = sqliteKind();
  const { lines, errors } = stream(24);
  const frames = batches(lines, 3);
  let expected: string[] = [];
  before(async () => {
    await Promise.all([pgs.setup(), sqlite.setup()]);
    // The reference: one process fed every frame in order.
    const place = await sqlite.place('one');
    const one = await startDrainWith([...sqlite.drainArgs(place), ...WINDOW]);
    try {
      for (const [i, f] of frames.entries()) await post(one, f, `F${i}`);
      await until(
        async () =>
          (await sqlite.sql(place, 'SELECT COUNT(*) AS n FROM diagnoses')).map((r) =>
            Number(r.n),
          )[0] === errors,
        30_000,
        'the reference diagnoses',
      );
    } finally {
      one.proc.kill();
    }
    expected = shape(await sqlite.sql(place, 'SELECT dkey, code, cause FROM diagnoses'));
    assert.deepEqual(
      [...new Set(expected.map((e) => e.split(' ').slice(1).join(' ')))].sort(),
      ['H12 unknown', 'H13 app-crash'],
      'the stream makes the diagnoses it was written for',
    );
  });
  after(async () => {
    await Promise.all([pgs.teardown(), sqlite.teardown()]);
  });

  const diagnosesIn = async (url: string) =>
    shape(await pgs.sql(url, 'SELECT dkey, code, cause FROM diagnoses WHERE app = ?', [APP]));
  const holder = (ds: readonly DrainProcess[]) =>
    ds.filter((d) => new RegExp(`event=analysis-taken app=${APP}\\b`).test(d.proc.stdout()));

  it('frames split between two processes (alternating, pairs at once): the same diagnoses as one process', async () => {
    const url = await pgs.place('split');
    const [a, b] = await Promise.all([
      startDrainWith([...pgs.drainArgs(url), ...WINDOW]),
      startDrainWith([...pgs.drainArgs(url), ...WINDOW]),
    ]);
    const pages = await Promise.all([follow(a.url), follow(b.url)]);
    try {
      for (let i = 0; i < frames.length; i += 2) {
        const pair = [post(a, frames[i] ?? [], `F${i}`)];
        if (i + 1 < frames.length) pair.push(post(b, frames[i + 1] ?? [], `F${i + 1}`));
        await Promise.all(pair);
      }
      await until(
        async () => (await diagnosesIn(url)).length >= errors,
        30_000,
        'the diagnoses of the split stream',
      );
      assert.deepEqual(await diagnosesIn(url), expected);
      assert.equal(holder([a, b]).length, 1, 'one process analyses the app');
      const counted = await pgs.sql(
        url,
        "SELECT SUM(n) AS n FROM counts WHERE app = ? AND kind = 'diagnosis'",
        [APP],
      );
      assert.equal(Number(counted[0]?.n), errors, 'each diagnosis counted once');
      // Pages on both processes saw every diagnosis live: the analysing one's own, the
      // other's through NOTIFY.
      await until(
        () => pages.every((p) => p.keys.size >= errors),
        10_000,
        'live diagnosis events on both processes',
      );
      const keys = expected.map((e) => e.split(' ')[0]).sort();
      for (const p of pages) assert.deepEqual([...p.keys].sort(), keys);
    } finally {
      for (const p of pages) p.res.destroy();
      a.proc.kill();
      b.proc.kill();
    }
  });

  it('started together on a new database with no password set: one password, and a login on one is valid on the other', async () => {
    const url = await pgs.place('login');
    const env = { H13_DRAIN_PASSWORD: '' };
    const [a, b] = await Promise.all([
      startDrainWith(pgs.drainArgs(url), env),
      startDrainWith(pgs.drainArgs(url), env),
    ]);
    try {
      const printed = [a, b]
        .map((d) => /password: (\S+)/.exec(d.proc.stderr())?.[1])
        .filter((p) => p !== undefined);
      assert.equal(printed.length, 1, 'one process generated the password and printed it');
      const password = printed[0] as string;
      const auth = `Basic ${Buffer.from(`h13:${password}`).toString('base64')}`;
      for (const d of [a, b])
        assert.equal((await send(d.url, { path: '/api/apps', auth })).status, 200);
      const login = await send(a.url, {
        path: '/login',
        auth: null,
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: a.url },
        body: `user=h13&password=${encodeURIComponent(password)}`,
      });
      assert.equal(login.status, 303);
      const cookie = /h13_session=([^;]+)/.exec(String(login.headers['set-cookie']))?.[1] ?? '';
      const page = await send(b.url, {
        path: '/',
        auth: null,
        headers: { cookie: `h13_session=${cookie}` },
      });
      assert.equal(page.status, 200, 'the other process knows the session');
    } finally {
      a.proc.kill();
      b.proc.kill();
    }
  });

  it('kill -9 of the process analysing the app mid-stream: the other takes over, nothing lost or doubled', async () => {
    const url = await pgs.place('takeover');
    const [a, b] = await Promise.all([
      startDrainWith([...pgs.drainArgs(url), ...WINDOW]),
      startDrainWith([...pgs.drainArgs(url), ...WINDOW]),
    ]);
    try {
      const half = Math.floor(frames.length / 2);
      for (let i = 0; i < half; i++) await post(i % 2 === 0 ? a : b, frames[i] ?? [], `F${i}`);
      await until(async () => holder([a, b]).length === 1, 10_000, 'a process to take the app');
      const [dead] = holder([a, b]);
      const survivor = dead === a ? b : a;
      dead?.proc.child.kill('SIGKILL');
      await dead?.proc.exited();
      // Frames the killed process would have had are sent again, as logplex retries them.
      for (let i = half; i < frames.length; i++) await post(survivor, frames[i] ?? [], `F${i}`);
      await survivor.proc.waitFor(new RegExp(`event=analysis-taken app=${APP}\\b`), 15_000);
      await until(
        async () => (await diagnosesIn(url)).length >= errors,
        30_000,
        'the diagnoses after the takeover',
      );
      assert.deepEqual(await diagnosesIn(url), expected);
      const counted = await pgs.sql(
        url,
        "SELECT SUM(n) AS n FROM counts WHERE app = ? AND kind = 'diagnosis'",
        [APP],
      );
      assert.equal(Number(counted[0]?.n), errors, 'each diagnosis counted once');
      const stored = await pgs.sql(url, 'SELECT COUNT(*) AS n FROM lines WHERE app = ?', [APP]);
      assert.equal(Number(stored[0]?.n), lines.length, 'every line stored once');
    } finally {
      a.proc.kill();
      b.proc.kill();
    }
  });
});
