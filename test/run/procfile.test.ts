/**
 * Procfile lines start as on Heroku (bash, which execs a single command), and a main process
 * that is not the app (`web: npm start`) ends the dyno when it exits on SIGTERM, cutting the
 * app mid-request: the H13 is real, and h13 says why. Real npm, real package.json.
 */

import assert from 'node:assert/strict';
import http from 'node:http';
import { afterEach, describe, it } from 'node:test';
import { CAUSES } from '../../src/analyze/causes.js';
import type { RouterRecord } from '../../src/core/router-line.js';
import { detectIsolation, type Isolation } from '../../src/run/dyno-scope.js';
import { type RunHandle, type RunOptions, shutdownNote, startRun } from '../../src/run/index.js';
import { npmApp } from '../helpers/npm-app.js';
import { CLI, fixture } from '../helpers/paths.js';
import { until, withTimeout } from '../helpers/wait.js';

const runs = new Set<RunHandle>();
afterEach(async () => {
  for (const r of runs) await r.stop();
  runs.clear();
});

async function run(options: RunOptions): Promise<RunHandle> {
  const h = await startRun({
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

const app = `${JSON.stringify(process.execPath)} ${JSON.stringify(fixture('run-app'))} --log-requests`;
const isolations: Isolation[] =
  detectIsolation() === 'pid-namespace' ? ['pid-namespace', 'process-group'] : ['process-group'];

/** Stop the run while /slow is inside the app; resolves with that request's status (or 0). */
async function stopMidRequest(h: RunHandle): Promise<number> {
  const status = new Promise<number>((resolve) => {
    http
      .get(`${h.url}/slow?ms=1500`, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', () => resolve(0));
  });
  await h.waitForLine(/app\[web\.1\]: GET \/slow/, 10_000);
  await withTimeout(h.stop(), 15_000, 'stop');
  return withTimeout(status, 10_000, 'the in-flight request to end');
}

describe('web: npm start, as Heroku runs it', () => {
  for (const isolation of isolations) {
    it(`${isolation}: npm exits on SIGTERM, the app is cut mid-request, h13 says why`, async () => {
      const h = await run({ command: 'npm start', cwd: npmApp(app), isolation });
      const status = await stopMidRequest(h);
      assert.notEqual(status, 200);
      const lines = h.lines.join('\n');
      assert.match(lines, /heroku\[web\.1\]: Stopping all processes with SIGTERM\n/);
      assert.match(lines, /heroku\[web\.1\]: Process exited with status 143\n/);
      // h13's own init writes nothing that could pass for the app's output.
      assert.doesNotMatch(lines, /app\[web\.1\]: (Terminated|Killed)$/m);
      assert.match(
        lines,
        /h13\[web\.1\]: note: the dyno's main process \(npm\) exited \(status 143\) while the app's own processes were still running.*Fix: .*web: node server\.js.*exec node server\.js/,
      );
      if (isolation === 'pid-namespace') {
        assert.ok(
          h.records.some((r) => r.code === 'H13' && r.path === '/slow?ms=1500'),
          lines,
        );
      }
    });
  }

  it('the fixes: `exec` in the start script, or `web: node …` in the Procfile: answered, no note', async () => {
    for (const options of [
      { command: 'npm start', cwd: npmApp(`exec ${app}`) },
      { command: app },
    ]) {
      const h = await run(options);
      assert.equal(await stopMidRequest(h), 200);
      const lines = h.lines.join('\n');
      assert.match(lines, /heroku\[web\.1\]: Process exited with status 0$/m);
      assert.doesNotMatch(lines, /h13\[web\.1\]: note/);
    }
  });
});

const dropped = (records: readonly RouterRecord[]) =>
  records.filter((r) => r.code === 'H13' || r.code === 'H18');

/** Keep-alive traffic through the router until stop(); counts answers. */
function load(url: string, clients: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  let running = true;
  let answered = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      http
        .get(`${url}/slow?ms=50`, { agent }, (res) => {
          res.resume();
          res.on('end', () => {
            answered++;
            resolve();
          });
        })
        .on('error', () => resolve());
    });
  const loops = Array.from({ length: clients }, async () => {
    while (running) await one();
  });
  return {
    answered: () => answered,
    async stop() {
      running = false;
      await withTimeout(Promise.all(loops), 15_000, 'load to end');
      agent.destroy();
    },
  };
}

describe('a Procfile line runs like the same command given directly', () => {
  const guarded = [process.execPath, CLI, 'demo', '--host', '127.0.0.1', '--guard'];
  for (const isolation of isolations) {
    for (const [how, command] of [
      ['Procfile line', guarded.map((w) => JSON.stringify(w)).join(' ')],
      ['argv', guarded],
    ] as const) {
      it(`${isolation}, ${how}: the guarded demo restarts under load with zero H13/H18`, async () => {
        const h = await run({
          command,
          isolation,
          resignal: 150,
          env: { ...process.env, H13_GUARD: '' },
        });
        const traffic = load(h.url, 4);
        await until(() => traffic.answered() >= 20, 10_000, 'steady traffic');
        await withTimeout(h.restart(), 20_000, 'restart');
        await traffic.stop();
        assert.deepEqual(dropped(h.records), [], h.lines.join('\n'));
        assert.doesNotMatch(h.lines.join('\n'), /h13\[web\.1\]: note/);
      });
    }
  }
});

describe('a dyno that drops requests while stopping', () => {
  it("gets h13's note with the one shutdown advice (the text h13 analyze gives)", async () => {
    const h = await run({ command: [process.execPath, CLI, 'demo', '--host', '127.0.0.1'] });
    const inFlight = new Promise<void>((resolve) => {
      http
        .get(`${h.url}/slow?ms=1500`, (res) => res.resume().on('end', resolve))
        .on('error', () => resolve());
    });
    await h.waitForLine(/app\[web\.1\]: .*GET \/slow/, 10_000);
    await withTimeout(h.restart(), 20_000, 'restart');
    await withTimeout(inFlight, 10_000, 'the in-flight request to end');
    const note = await h.waitForLine(
      /h13\[web\.1\]: note: \d+ request\(s\) to web\.1 were not answered while it was stopping/,
      5000,
    );
    assert.ok(note.includes('H13 ×1'), note);
    assert.ok(note.endsWith(CAUSES['restart-race'].fix), note);
  });
});

describe('the shutdown note under npm', () => {
  // An app with no SIGTERM handler dies on the signal whatever launched it, so the first fix
  // is the handler; under npm it also names npm, as `h13 analyze` does for the same lines.
  it('adds starting the app directly when npm is the main process, not otherwise', () => {
    const underNpm = shutdownNote('web.1', ['H13'], 'npm start');
    assert.ok(underNpm.includes(CAUSES['restart-race'].fix), underNpm);
    assert.match(underNpm, /start the app directly .*npm does not wait for it on SIGTERM/);
    const direct = shutdownNote('web.1', ['H13'], ['node', 'server.js']);
    assert.ok(direct.endsWith(CAUSES['restart-race'].fix), direct);
  });
});
