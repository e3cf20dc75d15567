/** `startRun`: the dyno manager and the router together, as `h13 run` uses them. */

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { isH13Error } from '../../src/core/errors.js';
import { exchange } from '../../src/http/raw-exchange.js';
import { type RunHandle, type RunOptions, startRun } from '../../src/run/index.js';
import { fixture } from '../helpers/paths.js';
import { withTimeout } from '../helpers/wait.js';

const runs = new Set<RunHandle>();
afterEach(async () => {
  for (const r of runs) await r.stop();
  runs.clear();
});

async function run(args: string[], options: Partial<RunOptions> = {}): Promise<RunHandle> {
  const handle = await startRun({
    command: [process.execPath, fixture('run-app'), ...args],
    grace: 5000,
    bootTimeout: 5000,
    restartDelay: 60_000,
    timers: { firstByte: 3000, idle: 3000, connect: 1000, bootQueue: 5000 },
    ...options,
  });
  runs.add(handle);
  await withTimeout(handle.whenUp(), 10_000, 'dynos up');
  return handle;
}

/** Wait for a DynoTable condition on its 'change' events (bounded). */
function waitForTable(h: RunHandle, check: () => boolean, what: string): Promise<void> {
  return withTimeout(
    new Promise<void>((resolve) => {
      const onChange = () => {
        if (!check()) return;
        h.dynos.off('change', onChange);
        resolve();
      };
      h.dynos.on('change', onChange);
      onChange();
    }),
    5000,
    what,
  );
}

const get = (h: RunHandle, path = '/') =>
  exchange({
    host: '127.0.0.1',
    port: h.port,
    bytes: `GET ${path} HTTP/1.1\r\nHost: app.local\r\n\r\n`,
    timeoutMs: 8000,
  });

describe('h13 run (library)', () => {
  it('checks its options against the same table as the CLI (H13_ERR_INVALID_OPTION)', async () => {
    for (const [bad, field] of [
      [{ grace: -5 }, 'grace'],
      [{ bootTimeout: Number.NaN }, 'bootTimeout'],
      [{ restartDelay: '1s' }, 'restartDelay'],
      [{ dynos: -1 }, 'dynos'],
      [{ dynos: 1.5 }, 'dynos'],
      [{ port: 70_000 }, 'port'],
      [{ isolation: 'chroot' }, 'isolation'],
    ] as const) {
      await assert.rejects(
        startRun({ command: ['true'], ...(bad as unknown as Partial<RunOptions>) }),
        (err: unknown) => isH13Error(err, 'H13_ERR_INVALID_OPTION') && err.field === field,
        field,
      );
    }
  });

  it('routes to web.1..web.N and logs each request once, in heroku logs form', async () => {
    const h = await run([], { dynos: 2 });
    const seen = new Set<string>();
    for (let i = 0; i < 12 && seen.size < 2; i++) {
      const r = await get(h);
      assert.equal(r.status, 200);
      seen.add(r.body.toString().split(' ')[2] as string);
    }
    assert.deepEqual([...seen].sort(), ['web.1', 'web.2']);
    const record = await h.waitForRecord((r) => r.at === 'info', 2000);
    assert.equal(record.method, 'GET');
    assert.equal(record.host, 'app.local');
    const line = await h.waitForLine(
      / heroku\[router\]: at=info method=GET path="\/" host=app\.local /,
      2000,
    );
    assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00 heroku\[router\]: /);
    assert.ok(h.lines.some((l) => / app\[web\.1\]: listening on \d+$/.test(l)));
    assert.equal(h.records.filter((r) => r.at === 'info').length, h.records.length);
  });

  it('a crash gives H13 for the request, then H10 while the dyno is down', async () => {
    const h = await run([], { restartDelay: 60_000 });
    const crash = await get(h, '/crash');
    assert.equal(crash.status, 503);
    const h13 = await h.waitForRecord((r) => r.code === 'H13', 5000);
    assert.equal(h13.path, '/crash');
    assert.equal(h13.dyno, 'web.1');
    await h.waitForLine(/heroku\[web\.1\]: State changed from up to crashed/, 5000);
    // The first restart is immediate; crash it again so the second restart waits a minute.
    await withTimeout(h.whenUp(), 10_000, 'restarted');
    await get(h, '/crash');
    await waitForTable(
      h,
      () => h.dynos.list().every((d) => d.state === 'crashed'),
      'every dyno crashed',
    );
    const down = await get(h, '/');
    assert.equal(down.status, 503);
    const h10 = await h.waitForRecord((r) => r.code === 'H10', 5000);
    assert.equal(h10.status, 503);
    await h.waitForLine(
      /heroku\[router\]: at=error code=H10 desc="App crashed" method=GET path="\/" .* dyno= connect= /,
      2000,
    );
    assert.equal(await h.stop(), 1);
  });

  it('restart under traffic: old dynos get SIGTERM, requests keep flowing to the new ones', async () => {
    const h = await run(['--drain=300'], { dynos: 2 });
    const before = new Set<string>();
    for (let i = 0; i < 6; i++) before.add((await get(h)).body.toString().split(' ')[4] as string);
    let stop = false;
    const statuses: number[] = [];
    const traffic = (async () => {
      while (!stop) statuses.push((await get(h)).status ?? 0);
    })();
    await withTimeout(h.restart(), 15_000, 'restart');
    stop = true;
    await traffic;
    assert.equal(
      h.lines.filter((l) => l.endsWith('Stopping all processes with SIGTERM')).length,
      2,
    );
    assert.ok(statuses.length > 0);
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
      h.records
        .filter((r) => r.at !== 'info')
        .map((r) => `${r.code} ${r.dyno}`)
        .join('\n'),
    );
    const after = (await get(h)).body.toString().split(' ')[4] as string;
    assert.ok(!before.has(after), 'served by a new process');
    assert.equal(await h.stop(), 0);
  });
});
