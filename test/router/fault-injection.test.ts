/**
 * Fault injection: many requests against an app that, chosen by a seeded random draw, answers,
 * closes, resets, half-answers, stalls or answers malformed. Each request's path says which
 * fault it meets, so every request must get exactly one router line with the matching code,
 * and no socket may stay open afterwards.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RouterFlavor } from '../../src/core/router-line.js';
import { seededRandom } from '../helpers/random.js';
import { get, startHarness } from './harness.js';

/** Path, expected code, weight (the stalls cost a timer each, so they are drawn less). */
const FAULTS: ReadonlyArray<readonly [string, string | null, number]> = [
  ['/ok', null, 4],
  ['/ok-close', null, 4],
  ['/chunked-ok', null, 4],
  ['/destroy', 'H13', 4],
  ['/reset', 'H13', 4],
  ['/half', 'H18', 4],
  ['/head-cut', 'H18', 4],
  ['/malformed', 'H17', 4],
  ['/bad-chunk', 'H17', 4],
  ['/bad-cl', 'H25', 4],
  ['/big-cookie', 'H25', 4],
  ['/big-status', 'H25', 4],
  ['/stall-first', 'H12', 1],
  ['/stall-body', 'H15', 1],
];

async function run(flavor: RouterFlavor, count: number, seed: number): Promise<void> {
  const h = await startHarness({
    flavor,
    // Generous timers: the clients, the router and the app share one event loop here, and a
    // loaded machine can stall it; only the stall paths ever wait for them.
    timers: { firstByte: 1_500, idle: 1_500, poolIdle: 100, clientHead: 10_000 },
  });
  try {
    const next = seededRandom(seed);
    const total = FAULTS.reduce((sum, [, , weight]) => sum + weight, 0);
    const draw = (): (typeof FAULTS)[number] => {
      let x = next() * total;
      for (const f of FAULTS) {
        x -= f[2];
        if (x < 0) return f;
      }
      return FAULTS[0] as (typeof FAULTS)[number];
    };
    const plan = Array.from({ length: count }, (_, i) => {
      const [path, code] = draw();
      return { path: `${path}?n=${i}`, code };
    });
    let cursor = 0;
    const worker = async () => {
      while (cursor < plan.length) {
        const item = plan[cursor++] as (typeof plan)[number];
        const res = await h.send(get(item.path), { timeoutMs: 10_000 });
        assert.notEqual(res.ending, 'open', `${item.path} got no decisive answer`);
        assert.notEqual(res.status, 408, `${item.path} was refused before the app stage`);
      }
    };
    await Promise.all(Array.from({ length: 25 }, worker));
    await h.record(count - 1);
    assert.equal(h.records.length, count, 'exactly one line per request');
    const byPath = new Map(h.records.map((r) => [r.path, r]));
    assert.equal(byPath.size, count, 'no request logged twice');
    for (const item of plan) {
      const r = byPath.get(item.path);
      assert.ok(r !== undefined, `${item.path} has a line`);
      assert.equal(r.code, item.code, `${item.path} (seed ${seed})`);
    }
    await h.drained();
    assert.deepEqual(h.router.openSockets(), { client: 0, dyno: 0 });
  } finally {
    await h.close();
  }
}

test('fault injection, Router 2.0: 1500 requests, one correct line each, no leak', async () => {
  await run('2', 1500, 1234);
});

test('fault injection, legacy router: 500 requests, one correct line each, no leak', async () => {
  await run('legacy', 500, 99);
});
