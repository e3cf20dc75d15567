/** The web login's pieces: session cookies, where a login may lead, same-origin, throttling. */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { it } from 'node:test';
import { AuthThrottle, type AuthThrottleOptions } from '../../src/drain/auth-throttle.js';
import {
  cookieValue,
  currentSession,
  newSession,
  readSession,
  rememberEnded,
  type SessionKeys,
  sameOrigin,
} from '../../src/drain/session.js';
import { safeNext } from '../../src/drain/web-routes.js';

const digest = (text: string) => createHash('sha256').update(text).digest();
const keys: SessionKeys = {
  key: Buffer.alloc(32, 7),
  bind: digest('pw'),
  ttlMs: 60_000,
  revoked: new Set(),
  isRevoked: async () => false,
};

/** Whether a cookie value passes the check every page request makes. */
async function validSession(k: SessionKeys, value: string | undefined, nowMs: number) {
  const headers = value === undefined ? {} : { cookie: `h13_session=${value}` };
  return (await currentSession(k, { headers } as IncomingMessage, nowMs)) !== null;
}

it('a session is valid until it expires, and not after a password change or any edit', async () => {
  const now = 1_000_000;
  const value = newSession(keys, now);
  assert.equal(await validSession(keys, value, now + 59_999), true);
  assert.equal(await validSession(keys, value, now + 60_000), false, 'expired');
  assert.equal(await validSession({ ...keys, bind: digest('new pw') }, value, now), false);
  assert.equal(await validSession({ ...keys, key: Buffer.alloc(32, 8) }, value, now), false);
  const longer = value.replace(/^v1\.(\d+)/, (_m, t: string) => `v1.${Number(t) + 1e9}`);
  assert.equal(await validSession(keys, longer, now + 120_000), false, 'an extended expiry');
  assert.equal(await validSession(keys, undefined, now), false);
  assert.equal(await validSession(keys, 'v1.x.y.z', now), false);
  const other = newSession(keys, now);
  keys.revoked.add((readSession(keys, value, now) as { nonce: string }).nonce);
  assert.equal(await validSession(keys, value, now), false, 'ended by a logout');
  assert.equal(await validSession(keys, other, now), true, 'another session goes on');
  assert.equal(cookieValue(`a=1; h13_session=${value}; b=2`, 'h13_session'), value);
});

it('a cookie is checked against the store of ended sessions, and a forged one costs no query', async () => {
  const ended = new Set<string>();
  const asked: string[] = [];
  const shared: SessionKeys = {
    ...keys,
    revoked: new Set(),
    isRevoked: async (nonce) => {
      asked.push(nonce);
      return ended.has(nonce);
    },
  };
  const value = newSession(shared);
  const req = (v: string) => ({ headers: { cookie: `h13_session=${v}` } }) as IncomingMessage;
  const nonce = (readSession(shared, value) as { nonce: string }).nonce;
  assert.equal((await currentSession(shared, req(value)))?.nonce, nonce);
  // Another process's logout: only the store knows.
  ended.add(nonce);
  assert.equal(await currentSession(shared, req(value)), null, 'ended elsewhere');
  assert.equal(shared.revoked.has(nonce), true, 'remembered here from then on');
  assert.equal(asked.length, 2);
  assert.equal(await currentSession(shared, req(value)), null);
  assert.equal(asked.length, 2, 'known here: not asked again');
  const forged = `${value.slice(0, -4)}AAAA`;
  assert.equal(await currentSession(shared, req(forged)), null);
  assert.equal(asked.length, 2, 'a cookie whose MAC fails is never looked up');
  const failing: SessionKeys = {
    ...keys,
    revoked: new Set(),
    isRevoked: async () => {
      throw new Error('database down');
    },
  };
  await assert.rejects(currentSession(failing, req(newSession(failing))), /database down/);
});

it('the cache of ended sessions stays bounded; the store still decides', async () => {
  let queries = 0;
  const k: SessionKeys = {
    ...keys,
    revoked: new Set(),
    isRevoked: async () => {
      queries++;
      return true;
    },
  };
  for (let i = 0; i < 10_000; i++) rememberEnded(k, `n${i}`);
  assert.ok(k.revoked.size <= 4096, `cache holds ${k.revoked.size}`);
  assert.ok(k.revoked.has('n9999'), 'the latest is kept');
  // A session that dropped out of the cache is still refused: the store is asked.
  const value = newSession(k, Date.now());
  const nonce = readSession(k, value)?.nonce ?? '';
  assert.equal(k.revoked.has(nonce), false);
  const req = { headers: { cookie: `h13_session=${value}` } } as IncomingMessage;
  assert.equal(await currentSession(k, req), null);
  assert.equal(queries, 1);
  assert.ok(k.revoked.has(nonce), 'remembered after the query');
});

it('after login, only a path of this site', () => {
  assert.equal(safeNext('/apps/shop?x=1'), '/apps/shop?x=1');
  for (const bad of [
    '//evil.example/',
    '/\\evil.example',
    'https://evil.example/',
    'javascript:alert(1)',
    '/a b',
    null,
  ])
    assert.equal(safeNext(bad), '/', String(bad));
});

it('same-origin: Sec-Fetch-Site decides, else Origin must be this host', () => {
  const req = (headers: Record<string, string>) =>
    ({ headers, socket: {} }) as unknown as IncomingMessage;
  assert.equal(sameOrigin(req({ 'sec-fetch-site': 'same-origin', origin: 'null' })), true);
  assert.equal(
    sameOrigin(req({ 'sec-fetch-site': 'cross-site', origin: 'http://h:1', host: 'h:1' })),
    false,
  );
  assert.equal(sameOrigin(req({ 'sec-fetch-site': 'same-site' })), false);
  assert.equal(sameOrigin(req({ origin: 'http://h:1', host: 'h:1' })), true);
  assert.equal(sameOrigin(req({ origin: 'http://evil:1', host: 'h:1' })), false);
  assert.equal(sameOrigin(req({ host: 'h:1' })), false, 'neither header: not a browser form');
  assert.equal(
    sameOrigin(req({ origin: 'http://h', host: 'h', 'x-forwarded-proto': 'https' })),
    false,
    'behind HTTPS the origin is https',
  );
});

const limits = (over: Partial<AuthThrottleOptions> = {}) =>
  new AuthThrottle({
    perClient: 3,
    global: 5,
    windowMs: 60_000,
    knownMs: 3_600_000,
    maxClients: 4,
    behindRouter: false,
    ...over,
  });

it('wrong credentials: distinct ones counted per address, blocked until the window moves on', () => {
  const t = limits();
  // A drain left with an old password sends the same wrong one with every batch: not guessing.
  for (let i = 0; i < 100; i++) t.fail('10.0.0.1', 'Basic stale', i);
  assert.equal(t.check('10.0.0.1', 200), 'ok');
  for (const [at, guess] of [
    [300, 'g1'],
    [310, 'g2'],
  ] as const)
    t.fail('10.0.0.1', guess, at);
  assert.equal(t.check('10.0.0.1', 320), 'client-limit', 'the third distinct wrong one');
  assert.equal(t.check('10.0.0.2', 320), 'ok', 'another address is not held back');
  assert.equal(t.check('10.0.0.1', 59_999), 'client-limit');
  assert.equal(t.check('10.0.0.1', 60_000), 'ok', 'a new window');
});

it('wrong credentials over all addresses: past the global limit only known addresses are checked', () => {
  const t = limits();
  t.succeed('logplex-1', 0);
  // A guesser spread over addresses: 2 guesses each, under the per-address limit.
  for (let i = 0; i < 3; i++) {
    t.fail(`bot-${i}`, `guess-${i}-a`, 10);
    t.fail(`bot-${i}`, `guess-${i}-b`, 10);
  }
  assert.equal(t.check('bot-9', 20), 'global-limit');
  assert.equal(t.check('bot-0', 20), 'global-limit');
  assert.equal(t.check('logplex-1', 20), 'ok', 'an address that knew the password still gets in');
  assert.equal(t.check('bot-9', 60_010), 'ok');
  // Known for knownMs only.
  for (let i = 0; i < 5; i++) t.fail(`bot-${i}`, `later-${i}`, 3_600_000);
  assert.equal(t.check('logplex-1', 3_600_001), 'global-limit');
});

it('wrong credentials: memory stays bounded by maxClients and the limits', () => {
  const t = limits({ perClient: 2, global: 3 });
  for (let i = 0; i < 1000; i++) {
    t.fail(`addr-${i}`, `guess-${i}`, 5);
    t.succeed(`ok-${i}`, 5);
  }
  const inner = t as unknown as {
    wrong: Set<string>;
    byClient: Map<string, Set<string>>;
    known: Map<string, number>;
  };
  assert.equal(inner.wrong.size, 3);
  assert.equal(inner.byClient.size, 4);
  assert.equal(inner.known.size, 4);
  assert.ok(inner.known.has('ok-999'), 'the newest known address is kept');
});

it("behind Heroku's router the address is the router's X-Forwarded-For entry, not the client's", () => {
  const t = limits({ behindRouter: true });
  const request = (xff: string | undefined) =>
    ({
      headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
      socket: { remoteAddress: '10.1.2.3' },
    }) as unknown as IncomingMessage;
  assert.equal(t.clientOf(request('1.1.1.1, 203.0.113.9')), '203.0.113.9');
  assert.equal(t.clientOf(request(undefined)), '10.1.2.3');
  assert.equal(
    limits().clientOf(request('1.1.1.1')),
    '10.1.2.3',
    'not behind a router: the socket',
  );
});
