/**
 * The guard inside real apps' own shutdown and error patterns (test/fixtures/guard-patterns),
 * behind `h13 run`, guarded (`--import h13/register`) against unguarded in the same test:
 * two restarts under keep-alive load, counted from the router's own records (H13/H18), and
 * the exact bytes a client receives where the guard changes them.
 */

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RouterRecord } from '../../src/core/router-line.js';
import { type RunHandle, startRun } from '../../src/run/index.js';
import { fixture } from '../helpers/paths.js';
import { type Spawned, spawnProcess } from '../helpers/process.js';
import { until, withTimeout } from '../helpers/wait.js';
import { fields, httpGet, load } from './helpers.js';

const REGISTER = fileURLToPath(new URL('../../src/guard/register.js', import.meta.url));
const PATTERNS = fixture('guard-patterns');
/** Production timers made short; strings with units, as H13_GUARD allows. */
const GUARD_ENV = JSON.stringify({
  lateWindowMs: '300ms',
  idleQuietMs: '100ms',
  drainTimeoutMs: '5s',
  hookTimeoutMs: '1s',
});

const argv = (pattern: string, guarded: boolean) => [
  ...(guarded ? ['--import', REGISTER] : []),
  PATTERNS,
  pattern,
];

const runs = new Set<RunHandle>();
const apps = new Set<Spawned>();
after(async () => {
  for (const r of runs) await r.stop();
  for (const a of apps) a.kill();
});

async function run(pattern: string, guarded: boolean): Promise<RunHandle> {
  const h = await startRun({
    // Heroku may send SIGTERM more than once: every restart here sends it twice.
    resignal: 150,
    command: [process.execPath, ...argv(pattern, guarded)],
    grace: 8000,
    bootTimeout: 10_000,
    restartDelay: 100,
    timers: { firstByte: 5000, idle: 5000, connect: 1000, bootQueue: 10_000 },
    env: { ...process.env, H13_GUARD: guarded ? GUARD_ENV : '' },
  });
  runs.add(h);
  await withTimeout(h.whenUp(), 12_000, `${pattern} up`);
  return h;
}

const dropped = (records: readonly RouterRecord[]) =>
  records.filter((r) => r.code === 'H13' || r.code === 'H18');

/** Two restarts under keep-alive load; what the router recorded. */
async function restartsUnderLoad(pattern: string, guarded: boolean) {
  const h = await run(pattern, guarded);
  const traffic = load(h.url, '/', 6);
  try {
    await until(() => traffic.statuses.length >= 30, 15_000, 'steady traffic');
    for (let i = 0; i < 2; i++) {
      await withTimeout(h.restart(), 25_000, `restart ${i + 1}`);
      const seen = traffic.statuses.length;
      await until(() => traffic.statuses.length >= seen + 30, 15_000, 'traffic after restart');
    }
  } finally {
    await traffic.stop();
  }
  const result = {
    dropped: dropped(h.records).length,
    requests: h.records.length,
    bodies: Object.fromEntries(traffic.bodies),
    lines: h.lines,
  };
  runs.delete(h);
  await h.stop();
  return result;
}

const SHUTDOWN_PATTERNS = [
  'template',
  'exit-on-sigterm',
  'terminus',
  'http-terminator',
  'close-with-grace',
  'lightship',
  'fastify',
  'hapi-client-error',
  'uncaught-listener',
  'throw-after-write',
];

describe('coexisting with the app’s own shutdown: two restarts under load behind h13 run', () => {
  for (const pattern of SHUTDOWN_PATTERNS) {
    it(`${pattern}: guarded 0 H13/H18, and never more than unguarded`, async (t) => {
      const bare = await restartsUnderLoad(pattern, false);
      const guarded = await restartsUnderLoad(pattern, true);
      t.diagnostic(
        `${pattern}: H13/H18 unguarded ${bare.dropped}/${bare.requests}, guarded ${guarded.dropped}/${guarded.requests}; guarded answers ${JSON.stringify(guarded.bodies)}`,
      );
      const guardLines = guarded.lines.filter((l) => / at=\w+ (?:code|event)=/.test(l));
      assert.equal(
        guarded.dropped,
        0,
        `guarded ${pattern}: router H13/H18\n${guarded.lines.filter((l) => /H1[38]|event=/.test(l)).join('\n')}`,
      );
      assert.ok(guarded.dropped <= bare.dropped);
      // Every answer the load got is the app's own ('ok <pattern>'), or Fastify's own 503
      // while it closes (return503OnClosing): never a guard 503 for a request it could serve.
      for (const key of Object.keys(guarded.bodies))
        assert.ok(
          key === `200 ok ${pattern}\n` || (pattern === 'fastify' && key.startsWith('503 ')),
          `${key.slice(0, 80)}\n${guarded.lines.filter((l) => /code=H|event=/.test(l)).join('\n')}`,
        );
      assert.ok(
        guardLines.some((l) => /event=start /.test(l)),
        'the guard said it was active',
      );
    });
  }
});

/** Everything the app sends on one connection until it closes (bounded). */
function rawAll(port: number, bytes: string, ms = 5000): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
      let got = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => {
        got += d;
      });
      socket.on('close', () => resolve(got));
      socket.on('error', reject);
    }),
    ms,
    `the app to close the connection after ${JSON.stringify(bytes)}`,
  );
}

async function direct(pattern: string, guarded: boolean, env: NodeJS.ProcessEnv = {}) {
  const app = spawnProcess(process.execPath, argv(pattern, guarded), {
    env: { PORT: '0', HOST: '127.0.0.1', H13_GUARD: guarded ? GUARD_ENV : '', ...env },
  });
  apps.add(app);
  const m = await app.waitFor(/ready \S+ http:\/\/127\.0\.0\.1:(\d+)/);
  return { app, port: Number(m[1]) };
}

const statusLines = (raw: string) => raw.match(/HTTP\/1\.1 \d{3}/g) ?? [];

describe('what the client receives', () => {
  // A GET with a body but no Content-Length: Node parses the body as a second, malformed
  // request while the first one's response is still owed.
  const UNDECLARED_BODY = 'GET /slow-get HTTP/1.1\r\nHost: t\r\n\r\nthis is a body';

  it('a hapi-style clientError listener that waits for the in-flight response: the same bytes guarded and unguarded', async () => {
    for (const guarded of [false, true]) {
      const { app, port } = await direct('hapi-client-error', guarded);
      const raw = await rawAll(port, UNDECLARED_BODY);
      assert.deepEqual(
        statusLines(raw),
        ['HTTP/1.1 200', 'HTTP/1.1 400'],
        `guarded=${guarded}\n${raw}`,
      );
      assert.match(raw, /ok hapi-client-error\n/);
      app.kill();
    }
  });

  it('no clientError listener: unguarded Node answers 400 in place of the valid request; guarded the valid answer comes first', async () => {
    const bare = await direct('throw-after-write', false);
    assert.deepEqual(statusLines(await rawAll(bare.port, UNDECLARED_BODY)), ['HTTP/1.1 400']);
    bare.app.kill();
    const g = await direct('throw-after-write', true);
    const raw = await rawAll(g.port, UNDECLARED_BODY);
    assert.deepEqual(statusLines(raw), ['HTTP/1.1 200', 'HTTP/1.1 400'], raw);
    const line = fields((await g.app.waitFor(/^at=\w+ event=client_error.*$/m))[0]);
    assert.equal(line.answered_by, 'guard');
    assert.equal(line.after_response, 'true');
    g.app.kill();
  });

  it("a hapi-style listener waiting on a response the app then destroys: nothing is answered, and the lines name the app's destroy", async () => {
    const g = await direct('hapi-client-error', true);
    const raw = await rawAll(
      g.port,
      'GET /destroy-later HTTP/1.1\r\nHost: t\r\n\r\nthis is a body',
    );
    assert.equal(raw, '');
    const lost = fields((await g.app.waitFor(/^at=error code=H13.*$/m))[0]);
    assert.equal(lost.cause, 'app_destroy');
    const bad = fields((await g.app.waitFor(/^at=\w+ event=client_error.*$/m))[0]);
    assert.equal(bad.answered_by, 'none');
    g.app.kill();
  });

  it("SIGTERM while a first request head is half-sent: answered 408 when the drain closes idle connections, logged as the guard's", async () => {
    const g = await direct('throw-after-write', true);
    const pending = rawAll(g.port, 'POST / HTTP/1.1\r\nHost: x\r\n');
    g.app.child.kill('SIGTERM');
    await g.app.waitFor(/event=shutdown/);
    assert.match(await pending, /^HTTP\/1\.1 408 /);
    const line = fields((await g.app.waitFor(/^at=warning event=answered.*$/m))[0]);
    assert.equal(line.status, '408');
    assert.equal(line.cause, 'shutdown');
    await g.app.waitFor(/event=exit .*answered=1/);
    assert.equal(await g.app.exited(10_000), 0);
    assert.doesNotMatch(g.app.stderr(), /pre_request_close/);
  });

  it('a synchronous throw after writeHead + write: unguarded the client gets nothing; guarded it gets what was written, and the line says so', async () => {
    const bare = await direct('throw-after-write', false);
    assert.equal(await rawAll(bare.port, 'GET /write-throw HTTP/1.1\r\nHost: t\r\n\r\n'), '');
    bare.app.kill();
    const g = await direct('throw-after-write', true);
    const raw = await rawAll(g.port, 'GET /write-throw HTTP/1.1\r\nHost: t\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\npartial body\n$/);
    const line = fields((await g.app.waitFor(/^at=error code=H18.*$/m))[0]);
    assert.equal(line.cause, 'crash');
    assert.equal(line.received, 'partial_body');
    assert.equal(Number(line.sent_bytes), Buffer.byteLength(raw, 'latin1'));
    assert.equal(await g.app.exited(10_000), 1);
  });

  it("the app's own uncaughtException listener: the app keeps running, the failing request gets a complete 500 and its id is logged", async () => {
    const g = await direct('uncaught-listener', true);
    const url = `http://127.0.0.1:${g.port}`;
    const failed = await httpGet(`${url}/throw`, {
      'x-request-id': 'uncaught-listener-0123456789',
    });
    assert.equal(failed.status, 500);
    const crash = fields((await g.app.waitFor(/^at=error event=crash.*$/m))[0]);
    assert.equal(crash.request_id, 'uncaught-listener-0123456789');
    assert.equal(crash.handled_by, 'app');
    assert.match(crash.desc ?? '', /almost always a bad idea/);
    await g.app.waitFor(/app caught: fixture uncaught-listener: \/throw/);
    const next = await httpGet(`${url}/`);
    assert.equal(next.status, 200, 'the same process still serves');
    g.app.kill();
  });

  it("process.exit() in the app's SIGTERM handler: unguarded the in-flight request is cut; guarded it completes, then the process exits with the app's code", async () => {
    for (const guarded of [false, true]) {
      const { app, port } = await direct('exit-on-sigterm', guarded);
      const pending = rawAll(port, 'GET /?ms=400 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
      await app.waitFor(/request \//);
      app.child.kill('SIGTERM');
      const raw = await pending;
      assert.equal(await app.exited(10_000), 3);
      if (!guarded) {
        assert.equal(raw, '', 'unguarded: cut');
        continue;
      }
      assert.match(raw, /^HTTP\/1\.1 200 OK\r\n[\s\S]*ok exit-on-sigterm\n$/);
      const line = fields((await app.waitFor(/^at=info event=app_exit.*$/m))[0]);
      assert.equal(line.exit_code, '3');
      assert.equal(line.in_flight, '1');
    }
  });

  it("a Connection: close response in a drain: Node's own end after it goes through at once, not left for the idle reaper", async () => {
    // Quiet and deadline far beyond the read's bound: a socket left to the reaper fails it.
    const env = {
      H13_GUARD: JSON.stringify({
        lateWindowMs: '300ms',
        idleQuietMs: '60s',
        drainTimeoutMs: '90s',
      }),
    };
    const { app, port } = await direct('template', true, env);
    const pending = rawAll(port, 'GET /?ms=400 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    await app.waitFor(/request \//);
    app.child.kill('SIGTERM');
    const raw = await pending;
    assert.match(raw, /^HTTP\/1\.1 200 OK\r\n[\s\S]*[Cc]onnection: close\r\n/);
    assert.equal(await app.exited(10_000), 0, 'the app closed its server once the socket ended');
  });

  it('Fastify with requestTimeout: 5 keeps its timeouts guarded (no 97 s slow-client window)', async () => {
    const seen: string[] = [];
    for (const guarded of [false, true]) {
      const { app } = await direct('fastify', guarded);
      seen.push((await app.waitFor(/timeouts=(\S+)/))[1] as string);
      assert.doesNotMatch(app.stderr(), /event=keep_alive/);
      app.kill();
    }
    assert.deepEqual(seen, ['95000/60000/5', '95000/60000/5']);
  });
});
