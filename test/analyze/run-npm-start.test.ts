/**
 * `web: npm start` and SIGTERM, read back from a real `h13 run` (real npm, real package.json):
 * what `h13 analyze` names from the lines run writes. An app with no SIGTERM handler ends on
 * the signal by itself, launcher or not (the same H13 under `web: node app.js`): the shutdown
 * race, with the launcher named as a second fix. An app that drains on SIGTERM (and says so)
 * is cut by npm exiting at once: main-process-exit.
 */

import assert from 'node:assert/strict';
import http from 'node:http';
import { afterEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { detectIsolation } from '../../src/run/dyno-scope.js';
import { type RunHandle, type RunOptions, startRun } from '../../src/run/index.js';
import { npmApp } from '../helpers/npm-app.js';
import { fixture } from '../helpers/paths.js';
import { withTimeout } from '../helpers/wait.js';
import { analyzeText } from './analyze-helpers.js';

const runs = new Set<RunHandle>();
afterEach(async () => {
  for (const r of runs) await r.stop();
  runs.clear();
});

const NO_HANDLER = fileURLToPath(new URL('./fixtures/no-sigterm-app.js', import.meta.url));
const node = JSON.stringify(process.execPath);
const noHandlerApp = `${node} ${JSON.stringify(NO_HANDLER)}`;
const drainingApp = `${node} ${JSON.stringify(fixture('run-app'))} --log-requests`;

async function run(options: RunOptions): Promise<RunHandle> {
  const h = await startRun({
    dynos: 1,
    host: '127.0.0.1',
    log: null,
    collect: true,
    grace: 8000,
    bootTimeout: 15_000,
    restartDelay: 100,
    timers: { firstByte: 8000, idle: 8000, connect: 1000, bootQueue: 15_000 },
    ...options,
  });
  runs.add(h);
  await withTimeout(h.whenUp(), 20_000, 'dynos up');
  return h;
}

/** Sends /slow, then `act` (stop or restart) once the app has logged it; the run's lines. */
async function midRequest(h: RunHandle, act: (h: RunHandle) => Promise<unknown>): Promise<string> {
  const ended = new Promise<void>((resolve) => {
    http
      .get(`${h.url}/slow?ms=1500`, (res) => {
        res.resume();
        res.on('end', resolve);
        res.on('error', () => resolve());
      })
      .on('error', () => resolve());
  });
  await h.waitForLine(/app\[web\.1\]: GET \/slow/, 10_000);
  await withTimeout(act(h), 20_000, 'stop or restart');
  await withTimeout(ended, 10_000, 'the in-flight request to end');
  await h.waitForLine(/Process exited with status/, 10_000);
  return `${h.lines.join('\n')}\n`;
}

function slowDiagnosis(lines: string) {
  const d = analyzeText(lines).diagnoses.find((x) => x.path === '/slow?ms=1500');
  assert.ok(d !== undefined, lines);
  return d;
}

describe('analyze on `h13 run` of web: npm start', () => {
  it('no SIGTERM handler, stopped or restarted: the shutdown race, npm named as well', async () => {
    for (const act of [(h: RunHandle) => h.stop(), (h: RunHandle) => h.restart()]) {
      const h = await run({ command: 'npm start', cwd: npmApp(noHandlerApp) });
      const lines = await midRequest(h, act);
      const d = slowDiagnosis(lines);
      assert.equal(d.code, 'H13', lines);
      assert.equal(d.cause, 'restart-race', `${d.reason}\n${lines}`);
      assert.match(d.reason, /no shutdown of its own.*`npm start`.*start the app directly/);
      await h.stop();
    }
  });

  it('the same app as `web: node app.js`: the same H13, the same cause, no launcher', async () => {
    const h = await run({ command: noHandlerApp });
    const lines = await midRequest(h, (x) => x.stop());
    const d = slowDiagnosis(lines);
    assert.equal(d.cause, 'restart-race', lines);
    assert.doesNotMatch(d.reason, /npm/);
  });

  // Held in a process group instead, the router may see its own close first and log H24
  // (docs/run.md, Containment): the H13 this reads needs a PID namespace.
  const namespace = detectIsolation() === 'pid-namespace';
  it('an app that drains on SIGTERM, cut by npm exiting at once: main-process-exit', {
    skip: namespace ? false : 'needs a PID namespace (the router may log H24 in a process group)',
  }, async () => {
    const h = await run({
      command: 'npm start',
      cwd: npmApp(drainingApp),
      isolation: 'pid-namespace',
    });
    const lines = await midRequest(h, (x) => x.stop());
    const d = slowDiagnosis(lines);
    assert.equal(d.cause, 'main-process-exit', `${d.reason}\n${lines}`);
    assert.ok(d.evidence.some((e) => e.kind === 'shutdown'));
  });
});
