import assert from 'node:assert/strict';
import http from 'node:http';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { fixture } from '../helpers/paths.js';
import { type Spawned, spawnNode } from '../helpers/process.js';
import { once, withTimeout } from '../helpers/wait.js';
import { fields, httpGet } from './helpers.js';

async function startApp(options: Record<string, unknown>): Promise<{ app: Spawned; url: string }> {
  const app = spawnNode(fixture('guard-app'), [], {
    env: { GUARD_OPTIONS: JSON.stringify(options) },
  });
  const m = await app.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return { app, url: m[1] as string };
}

function guardLines(app: Spawned, pattern: RegExp): Array<Record<string, string>> {
  return app
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('at=') && pattern.test(l))
    .map(fields);
}

const id = (name: string) => `${name}-${'0'.repeat(24)}`.slice(0, 24);

/** Resolves once the app logged that a request with this id reached the handler's step. */
function settled<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: Error }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: Error) => ({ ok: false as const, error }),
  );
}

describe('guard in a real process: crashes', () => {
  it('a throw in a handler: that request 500, others finish or get 503, none dropped, exit 1', async () => {
    const { app, url } = await startApp({ crashTimeoutMs: 1500, lateWindowMs: 0 });
    try {
      const quick = settled(httpGet(`${url}/slow?ms=300`, { 'x-request-id': id('quick') }));
      const stuck = settled(httpGet(`${url}/slow?ms=60000`, { 'x-request-id': id('stuck') }));
      await app.waitFor(new RegExp(`request /slow ${id('quick')}`));
      await app.waitFor(new RegExp(`request /slow ${id('stuck')}`));
      const thrower = settled(httpGet(`${url}/throw`, { 'x-request-id': id('throw') }));
      const [q, s, t] = await withTimeout(Promise.all([quick, stuck, thrower]), 8000, 'answers');
      assert.ok(t.ok, `throwing request dropped: ${!t.ok && t.error.message}`);
      assert.equal(t.value.status, 500);
      assert.equal(t.value.headers.connection, 'close');
      assert.ok(q.ok && q.value.status === 200, 'the quick request completes');
      assert.ok(s.ok, `stuck request dropped: ${!s.ok && s.error.message}`);
      assert.equal(s.value.status, 503);
      assert.equal(await app.exited(5000), 1);
      const crash = guardLines(app, /event=crash/)[0];
      assert.ok(crash, app.stderr());
      assert.equal(crash.request_id, id('throw'));
      assert.equal(crash.origin, 'uncaughtException');
      assert.match(crash.error ?? '', /fixture \/throw/);
      assert.match(crash.stack ?? '', /guard-app\.js/);
      assert.match(crash.in_flight_ids ?? '', new RegExp(id('stuck')));
      const deadline = guardLines(app, /event=drain_deadline/)[0];
      assert.equal(deadline?.unfinished_ids, id('stuck'));
      assert.match(app.stderr(), /onShutdown hook ran/);
    } finally {
      app.kill();
    }
  });

  it('an unhandled rejection is tied to its request with context:true and answered 500', async () => {
    const { app, url } = await startApp({ context: true, crashTimeoutMs: 1500, lateWindowMs: 0 });
    try {
      const other = settled(httpGet(`${url}/slow?ms=200`, { 'x-request-id': id('other') }));
      const rejecting = settled(httpGet(`${url}/reject?ms=20`, { 'x-request-id': id('reject') }));
      const [o, r] = await withTimeout(Promise.all([other, rejecting]), 8000, 'answers');
      assert.ok(r.ok && r.value.status === 500, 'the rejecting request gets 500');
      assert.ok(
        o.ok && (o.value.status === 200 || o.value.status === 503),
        'the other is answered',
      );
      assert.equal(await app.exited(5000), 1);
      const crash = guardLines(app, /event=crash/)[0];
      assert.equal(crash?.origin, 'unhandledRejection');
      assert.equal(crash?.request_id, id('reject'));
      assert.equal(crash?.step, 'route /reject');
    } finally {
      app.kill();
    }
  });
});

describe('guard in a real process: shutdown', () => {
  it('two SIGTERMs during a slow request: it completes, a late request is answered with Connection: close, exit 0', async () => {
    const { app, url } = await startApp({ lateWindowMs: 1000, drainTimeoutMs: 8000 });
    try {
      const slow = settled(httpGet(`${url}/slow?ms=1200`, { 'x-request-id': id('slow') }));
      await app.waitFor(new RegExp(`request /slow ${id('slow')}`));
      app.child.kill('SIGTERM');
      await app.waitFor(/event=shutdown/);
      app.child.kill('SIGTERM');
      await app.waitFor(/event=signal_ignored/);
      const late = await httpGet(`${url}/`);
      assert.equal(late.status, 200);
      assert.equal(late.headers.connection, 'close');
      const s = await withTimeout(slow, 5000, 'slow answer');
      assert.ok(s.ok, `slow request dropped: ${!s.ok && s.error.message}`);
      assert.equal(s.value.status, 200);
      assert.equal(s.value.body, 'slow 1200\n');
      assert.equal(await app.exited(8000), 0);
      assert.match(app.stderr(), /onShutdown hook ran/);
      const exit = guardLines(app, /event=exit/)[0];
      assert.equal(exit?.exit_code, '0');
      assert.equal(guardLines(app, /code=H1[38]/).length, 0);
    } finally {
      app.kill();
    }
  });

  it('at the drain deadline an unanswered request gets 503, not a drop', async () => {
    const { app, url } = await startApp({ lateWindowMs: 0, drainTimeoutMs: 500 });
    try {
      const stuck = settled(httpGet(`${url}/slow?ms=60000`, { 'x-request-id': id('stuck') }));
      await app.waitFor(new RegExp(`request /slow ${id('stuck')}`));
      app.child.kill('SIGTERM');
      const s = await withTimeout(stuck, 5000, 'stuck answer');
      assert.ok(s.ok, `stuck request dropped: ${!s.ok && s.error.message}`);
      assert.equal(s.value.status, 503);
      assert.equal(s.value.headers.connection, 'close');
      assert.equal(await app.exited(5000), 0);
      const answered = guardLines(app, /event=answered/)[0];
      assert.equal(answered?.cause, 'shutdown_deadline');
      assert.equal(answered?.request_id, id('stuck'));
    } finally {
      app.kill();
    }
  });

  it('a streaming response still open at the deadline is cut and reported H18', async () => {
    const { app, url } = await startApp({ lateWindowMs: 0, drainTimeoutMs: 300 });
    try {
      const got = new Promise<http.IncomingMessage>((resolve, reject) => {
        http.get(`${url}/stream`, { agent: false }, resolve).on('error', reject);
      });
      const res = await withTimeout(got, 3000, 'stream head');
      res.resume();
      app.child.kill('SIGTERM');
      await once(res, 'close', 5000);
      assert.equal(await app.exited(5000), 0);
      const cut = guardLines(app, /code=H18/)[0];
      assert.equal(cut?.cause, 'shutdown_deadline', app.stderr());
    } finally {
      app.kill();
    }
  });

  it('keep-alive: a request on an idle pooled socket during the late window is answered; idle sockets are closed once quiet', async () => {
    const { app, url } = await startApp({
      lateWindowMs: 400,
      idleQuietMs: 100,
      drainTimeoutMs: 5000,
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    try {
      const sockets: Socket[] = [];
      agent.on('free', (socket: Socket) => {
        if (!sockets.includes(socket)) sockets.push(socket);
      });
      const [a, b] = await Promise.all([
        httpGet(`${url}/slow?ms=20`, {}, agent),
        httpGet(`${url}/slow?ms=20`, {}, agent),
      ]);
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      assert.equal(sockets.length, 2);
      const closed = sockets.map((s) => once(s, 'close', 8000));
      app.child.kill('SIGTERM');
      await app.waitFor(/event=shutdown/);
      // The router may still send on a pooled socket right after SIGTERM.
      const reused = await httpGet(`${url}/`, {}, agent);
      assert.equal(reused.status, 200);
      assert.equal(reused.headers.connection, 'close');
      await Promise.all(closed);
      assert.equal(await app.exited(8000), 0);
      assert.equal(guardLines(app, /code=H1[38]|event=answered/).length, 0);
    } finally {
      agent.destroy();
      app.kill();
    }
  });
});
