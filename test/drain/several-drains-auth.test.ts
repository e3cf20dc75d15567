/**
 * Issue 17: logins across drain processes sharing one PostgreSQL. A logout answered by one
 * process ends the session on the other at once (pages and live streams), and a new password
 * ends every session on every process.
 */

import assert from 'node:assert/strict';
import { get, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { once, withTimeout } from '../helpers/wait.js';
import { type DrainProcess, PASSWORD, send, startDrainWith } from './drain-helpers.js';
import { postgresKind } from './store-kinds.js';

async function login(d: DrainProcess, password = PASSWORD): Promise<string> {
  const r = await send(d.url, {
    path: '/login',
    auth: null,
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: d.url },
    body: `user=h13&password=${encodeURIComponent(password)}`,
  });
  assert.equal(r.status, 303, r.text);
  const cookie = /h13_session=([^;]+)/.exec(String(r.headers['set-cookie']))?.[1];
  assert.ok(cookie !== undefined && cookie !== '', 'a session cookie');
  return cookie;
}

const page = (d: DrainProcess, cookie: string, path = '/') =>
  send(d.url, { path, auth: null, headers: { cookie: `h13_session=${cookie}` } });

/** `GET /events` with the cookie only (as a logged-in page opens it). */
/** POST /logout with the session cookie, from the drain's own origin. */
function logout(d: DrainProcess, cookie: string) {
  return send(d.url, {
    method: 'POST',
    path: '/logout',
    auth: null,
    headers: { cookie: `h13_session=${cookie}`, origin: d.url },
    body: '',
  });
}

function stream(d: DrainProcess, cookie: string): Promise<IncomingMessage> {
  return withTimeout(
    new Promise<IncomingMessage>((resolve, reject) => {
      get(
        `${d.url}/events`,
        { headers: { cookie: `h13_session=${cookie}` }, agent: false },
        resolve,
      ).on('error', reject);
    }),
    10_000,
    'GET /events',
  );
}

/** Resolves when a stream has sent its first bytes (it is registered on the server then). */
async function opened(res: IncomingMessage): Promise<void> {
  assert.equal(res.statusCode, 200);
  res.setEncoding('utf8');
  await once(res, 'data', 10_000);
}

describe('logins across two h13 drain processes on one PostgreSQL', () => {
  const pgs = postgresKind();
  before(() => pgs.setup());
  after(() => pgs.teardown());

  it('a logout on A: the same cookie is refused by B from the answer on, and its live streams end on both', async () => {
    const url = await pgs.place('logout');
    const [a, b] = await Promise.all([
      startDrainWith(pgs.drainArgs(url)),
      startDrainWith(pgs.drainArgs(url)),
    ]);
    const streams: IncomingMessage[] = [];
    try {
      const cookie = await login(a);
      const other = await login(a);
      assert.equal((await page(b, cookie)).status, 200, 'B knows the session');
      const onB = await stream(b, cookie);
      const onA = await stream(a, cookie);
      const otherOnB = await stream(b, other);
      streams.push(onB, onA, otherOnB);
      await Promise.all([opened(onB), opened(onA), opened(otherOnB)]);
      const endedB = once(onB, 'end', 10_000);
      const endedA = once(onA, 'end', 10_000);
      for (const p of [endedA, endedB]) p.catch(() => {}); // awaited below
      // Read on, so 'end' is emitted when the server ends the response.
      for (const s of streams) s.resume();

      const out = await logout(a, cookie);
      assert.equal(out.status, 303);
      // No wait of any kind: the first request after the answer is refused.
      const after = await page(b, cookie);
      assert.equal(after.status, 303, 'B sends the ended session to the login form');
      assert.match(String(after.headers.location), /^\/login\?next=/);
      const post = await logout(b, cookie);
      assert.equal(post.status, 401, 'a POST with the ended session gets 401');
      assert.equal((await page(a, cookie)).status, 303, 'A refuses it too');
      await endedA;
      await endedB;
      const again = await stream(b, cookie);
      streams.push(again);
      assert.equal(again.statusCode, 303, 'a new stream with the ended cookie is refused');
      // The other session is untouched, its stream and its pages.
      assert.equal((await page(b, other)).status, 200);
      assert.equal(otherOnB.readableEnded, false, "the other session's stream is open");
      await b.proc.waitFor(/event=session-streams-ended streams=1 why=notify/, 10_000);
    } finally {
      for (const s of streams) s.destroy();
      a.proc.kill();
      b.proc.kill();
    }
  });

  it("a logout on A while B's listening connection is down (its NOTIFY lost): B still refuses the cookie at once, and ends its stream by itself", async () => {
    const url = await pgs.place('lost');
    const [a, b] = await Promise.all([
      startDrainWith(pgs.drainArgs(url)),
      startDrainWith(pgs.drainArgs(url)),
    ]);
    let onB: IncomingMessage | undefined;
    try {
      const cookie = await login(a);
      onB = await stream(b, cookie);
      await opened(onB);
      onB.resume();
      const ended = once(onB, 'end', 20_000);
      ended.catch(() => {}); // awaited below; a failure before then must not go unhandled
      // The sessions that LISTEN (pg-analysis.ts) are the ones whose last statement was
      // LISTEN (no app has sent anything, so they have run nothing since). Each process
      // reconnects its own after a second: a NOTIFY sent before then is lost to it.
      const killed = await pgs.sql(
        url,
        "SELECT pg_terminate_backend(pid, 5000) AS ok FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'",
      );
      assert.ok(killed.length >= 2 && killed.every((r) => r.ok === true), 'both listeners ended');
      const out = await logout(a, cookie);
      assert.equal(out.status, 303);
      assert.equal((await page(b, cookie)).status, 303, 'B refuses the ended session');
      await ended;
      await b.proc.waitFor(/event=session-streams-ended streams=1 why=/, 10_000);
    } finally {
      onB?.destroy();
      a.proc.kill();
      b.proc.kill();
    }
  });

  it('a new password (config var changed: every process restarts with it) ends every session on every process', async () => {
    const url = await pgs.place('password');
    const start = (password: string) =>
      Promise.all([
        startDrainWith(pgs.drainArgs(url), { H13_DRAIN_PASSWORD: password }),
        startDrainWith(pgs.drainArgs(url), { H13_DRAIN_PASSWORD: password }),
      ]);
    let [a, b] = await start(PASSWORD);
    try {
      const cookie = await login(a);
      for (const d of [a, b]) assert.equal((await page(d, cookie)).status, 200);
      a.proc.kill();
      b.proc.kill();
      await Promise.all([a.proc.exited(), b.proc.exited()]);
      [a, b] = await start('a-new-password-5678');
      for (const d of [a, b])
        assert.equal((await page(d, cookie)).status, 303, 'the old session is refused');
      const fresh = await login(b, 'a-new-password-5678');
      for (const d of [a, b]) assert.equal((await page(d, fresh)).status, 200);
    } finally {
      a.proc.kill();
      b.proc.kill();
    }
  });
});
