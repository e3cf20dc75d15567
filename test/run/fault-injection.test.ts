/**
 * Fault injection through `h13 run`, crashes included: thousands of requests to the demo,
 * each path a fault drawn with a seeded PRNG. Every request must get exactly one router line
 * whose code matches its fault, and afterwards the router must hold no sockets.
 *
 * A crash takes every request in flight on its dyno with it, so crash requests are sent alone
 * (between concurrent batches of the other faults) and the next batch waits for the dyno to
 * be back up: then each request's expected code is known exactly.
 */

import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { RouterCodeName } from '../../src/core/codes.js';
import { exchange } from '../../src/http/raw-exchange.js';
import { startRun } from '../../src/run/index.js';
import { CLI } from '../helpers/paths.js';
import { seededRandom, weightedDraw } from '../helpers/random.js';
import { until, withTimeout } from '../helpers/wait.js';

type Fault = readonly [path: string, code: RouterCodeName | null];

const FAULTS: ReadonlyArray<readonly [Fault, number]> = [
  [['/', null], 10],
  [['/upload', null], 3],
  [['/destroy', 'H13'], 4],
  [['/socket-timeout?ms=10', 'H13'], 2],
  [['/partial', 'H18'], 4],
  [['/bad-response', 'H17'], 3],
  [['/huge-cookie', 'H25'], 3],
  [['/slow?ms=600000', 'H12'], 1],
  [['/stall', 'H15'], 1],
  [['/exit', 'H13'], 0.3],
];

const COUNT = 2000;
const SEED = 1313;
const MAX_CRASHES = 6;

it(`${COUNT} requests with random faults and crashes: one matching line each, no socket left`, async () => {
  const run = await startRun({
    command: [process.execPath, CLI, 'demo', '--host', '127.0.0.1'],
    dynos: 2,
    restartDelay: 10,
    timers: { firstByte: 1500, idle: 1500, poolIdle: 100, bootQueue: 20_000 },
    grace: 2000,
  });
  try {
    await withTimeout(run.whenUp(), 15_000, 'dynos up');
    const next = seededRandom(SEED);
    let crashes = 0;
    const plan = Array.from({ length: COUNT }, (_, i) => {
      let [path, code] = weightedDraw(FAULTS, next);
      if (path === '/exit' && ++crashes > MAX_CRASHES) [path, code] = ['/', null];
      return {
        path: `${path}${path.includes('?') ? '&' : '?'}n=${i}`,
        code,
        crash: path === '/exit',
      };
    });
    const send = (path: string) =>
      exchange({
        host: '127.0.0.1',
        port: run.port,
        bytes: path.startsWith('/upload')
          ? `POST ${path} HTTP/1.1\r\nHost: app\r\nContent-Length: 5\r\n\r\nhello`
          : `GET ${path} HTTP/1.1\r\nHost: app\r\n\r\n`,
        timeoutMs: 15_000,
      });
    let i = 0;
    let crashed = 0;
    while (i < plan.length) {
      const batch: typeof plan = [];
      while (i < plan.length && !(plan[i] as (typeof plan)[number]).crash)
        batch.push(plan[i++] as (typeof plan)[number]);
      let cursor = 0;
      const worker = async () => {
        while (cursor < batch.length) {
          const r = await send((batch[cursor++] as (typeof plan)[number]).path);
          assert.notEqual(r.ending, 'open');
        }
      };
      await Promise.all(Array.from({ length: 20 }, worker));
      if (i < plan.length) {
        const crash = plan[i++] as (typeof plan)[number];
        await send(crash.path);
        await run.waitForRecord((r) => r.path === crash.path, 10_000);
        // The router sees the dropped connection before the dyno manager sees the exit: wait
        // for the crash itself, then for the restarted dyno.
        crashed++;
        await run.waitForLine(/State changed from up to crashed$/, 10_000, crashed);
        await withTimeout(run.whenUp(), 15_000, 'dyno back up after a crash');
      }
    }
    await withTimeout(
      (async () => {
        while (run.records.length < COUNT) await run.waitForRecord(() => true, 10_000);
      })(),
      20_000,
      'every record',
    );
    const byPath = new Map(run.records.map((r) => [r.path, r]));
    assert.equal(run.records.length, COUNT, 'exactly one line per request');
    assert.equal(byPath.size, COUNT, 'no request logged twice');
    const wrong = plan.filter((p) => (byPath.get(p.path)?.code ?? null) !== p.code);
    assert.deepEqual(
      wrong.map((p) => `${p.path}: expected ${p.code}, got ${byPath.get(p.path)?.code}`),
      [],
    );
    assert.ok(crashes > 0, 'the draw included crashes');
    assert.ok(run.lines.some((l) => l.includes('State changed from up to crashed')));
    await until(
      () => {
        const open = run.router.openSockets();
        return open.client === 0 && open.dyno === 0;
      },
      5000,
      'the router to release every socket',
    );
  } finally {
    await run.stop();
  }
});
