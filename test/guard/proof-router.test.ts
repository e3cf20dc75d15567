/**
 * Proof against the router (`h13 run`): the demo unguarded vs guarded, behind the same
 * router that writes Heroku's lines. Guarded, what the guard can answer leaves no H13/H18.
 */

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RouterRecord } from '../../src/core/router-line.js';
import { exchange } from '../../src/http/raw-exchange.js';
import { type RunHandle, startRun } from '../../src/run/index.js';
import { CLI } from '../helpers/paths.js';
import { until, withTimeout } from '../helpers/wait.js';
import { httpGet, load } from './helpers.js';

const runs = new Set<RunHandle>();
afterEach(async () => {
  for (const r of runs) await r.stop();
  runs.clear();
});

async function run(command: string[]): Promise<RunHandle> {
  const h = await startRun({
    // Heroku may send SIGTERM more than once: every restart here sends it twice.
    resignal: 150,
    command: [process.execPath, ...command],
    grace: 8000,
    bootTimeout: 8000,
    restartDelay: 100,
    timers: { firstByte: 5000, idle: 5000, connect: 1000, bootQueue: 8000 },
    env: { ...process.env, H13_GUARD: '' },
  });
  runs.add(h);
  await withTimeout(h.whenUp(), 10_000, 'dynos up');
  return h;
}

const demo = (guarded: boolean) => [
  CLI,
  'demo',
  '--host',
  '127.0.0.1',
  ...(guarded ? ['--guard'] : []),
];
const example = (name: string) => [
  fileURLToPath(new URL(`../../examples/${name}.js`, import.meta.url)),
];

const dropped = (records: readonly RouterRecord[]) =>
  records.filter((r) => r.code === 'H13' || r.code === 'H18');

describe('proof against h13 run: the demo unguarded vs guarded', () => {
  it('unguarded: /destroy and /socket-timeout are H13 in the router log', async () => {
    const h = await run(demo(false));
    await httpGet(`${h.url}/destroy`).catch(() => null);
    await h.waitForRecord((r) => r.code === 'H13' && r.path === '/destroy', 5000);
    await httpGet(`${h.url}/socket-timeout?ms=100`).catch(() => null);
    await h.waitForRecord((r) => r.code === 'H13' && r.path.startsWith('/socket-timeout'), 5000);
  });

  it('guarded: /destroy, /socket-timeout, /throw and /reject are answered, zero H13', async () => {
    const h = await run(demo(true));
    const cases: Array<[string, number]> = [
      ['/destroy', 500],
      ['/socket-timeout?ms=100', 503],
      ['/throw', 500],
      ['/reject', 500],
    ];
    let crashes = 0;
    for (const [path, status] of cases) {
      const r = await httpGet(`${h.url}${path}`);
      assert.equal(r.status, status, path);
      await h.waitForRecord((rec) => rec.path === path && rec.status === status, 5000);
      if (path === '/throw' || path === '/reject') {
        // The guard answers, drains, then exits 1: wait for that exit, then the replacement
        // (the router's record comes before the dyno manager sees the exit).
        crashes++;
        await h.waitForLine(/State changed from up to crashed$/, 10_000, crashes);
        await withTimeout(h.whenUp(), 10_000, 'dyno up again');
      }
    }
    assert.deepEqual(dropped(h.records), []);
  });

  for (const [name, command] of [
    ['the demo', demo(true)],
    ['Express', example('express')],
    ['Fastify', example('fastify')],
  ] as const) {
    it(`${name}, guarded: a restart under keep-alive load gives zero H13/H18`, async () => {
      const h = await run([...command]);
      const traffic = load(h.url, name === 'the demo' ? '/slow?ms=50' : '/', 4);
      await until(() => traffic.statuses.length >= 20, 10_000, 'steady traffic');
      await withTimeout(h.restart(), 20_000, 'restart');
      await traffic.stop();
      assert.ok(traffic.statuses.length > 0);
      assert.deepEqual(dropped(h.records), []);
    });
  }

  it('unguarded, the same restart under load drops requests (H13/H18)', async () => {
    const h = await run(demo(false));
    const traffic = load(h.url, '/slow?ms=300', 4);
    await h.waitForRecord((r) => r.path === '/slow?ms=300', 10_000);
    // Restart while a request is inside the app (the demo logs each one as it arrives).
    const arrived = () => h.lines.filter((l) => /app\[web\.1\]: GET \/slow/.test(l)).length;
    const before = arrived();
    await until(() => arrived() > before, 10_000, 'a request in flight');
    await withTimeout(h.restart(), 20_000, 'restart');
    await traffic.stop();
    assert.ok(dropped(h.records).length > 0, h.lines.join('\n'));
  });

  it('a bad client the router forwards: H13 with a destroying clientError listener, answered when guarded', async () => {
    const seed = 'GET ?invalid=request HTTP/1.1\r\nHost: app\r\n\r\n';
    const unguarded = await run([...demo(false), '--client-error', 'destroy']);
    const bare = await exchange({
      host: '127.0.0.1',
      port: unguarded.port,
      bytes: seed,
      timeoutMs: 5000,
    });
    assert.equal(bare.status, 503);
    await unguarded.waitForRecord((r) => r.code === 'H13' && r.path === '?invalid=request', 5000);
    const guarded = await run([...demo(true), '--client-error', 'destroy']);
    const answered = await exchange({
      host: '127.0.0.1',
      port: guarded.port,
      bytes: seed,
      timeoutMs: 5000,
    });
    assert.equal(answered.status, 400);
    const record = await guarded.waitForRecord((r) => r.path === '?invalid=request', 5000);
    assert.equal(record.at, 'info');
    assert.equal(record.status, 400);
  });

  it('guarded, a crash under load: the crashing request gets 500, none dropped', async () => {
    const h = await run(demo(true));
    const traffic = load(h.url, '/slow?ms=200', 3);
    await h.waitForRecord((r) => r.path === '/slow?ms=200', 10_000);
    const crashed = await httpGet(`${h.url}/throw`);
    assert.equal(crashed.status, 500);
    await withTimeout(h.whenUp(), 15_000, 'dyno up again');
    await traffic.stop();
    assert.deepEqual(dropped(h.records), [], h.lines.join('\n'));
  });
});
