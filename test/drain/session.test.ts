/** The web login's pieces: session cookies, where a login may lead, same-origin, throttling. */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { it } from 'node:test';
import {
  cookieValue,
  LoginThrottle,
  newSession,
  readSession,
  type SessionKeys,
  sameOrigin,
  validSession,
} from '../../src/drain/session.js';
import { safeNext } from '../../src/drain/web-routes.js';

const digest = (text: string) => createHash('sha256').update(text).digest();
const keys: SessionKeys = {
  key: Buffer.alloc(32, 7),
  bind: digest('pw'),
  ttlMs: 60_000,
  revoked: new Set(),
};

it('a session is valid until it expires, and not after a password change or any edit', () => {
  const now = 1_000_000;
  const value = newSession(keys, now);
  assert.equal(validSession(keys, value, now + 59_999), true);
  assert.equal(validSession(keys, value, now + 60_000), false, 'expired');
  assert.equal(validSession({ ...keys, bind: digest('new pw') }, value, now), false);
  assert.equal(validSession({ ...keys, key: Buffer.alloc(32, 8) }, value, now), false);
  const longer = value.replace(/^v1\.(\d+)/, (_m, t: string) => `v1.${Number(t) + 1e9}`);
  assert.equal(validSession(keys, longer, now + 120_000), false, 'an extended expiry');
  assert.equal(validSession(keys, undefined, now), false);
  assert.equal(validSession(keys, 'v1.x.y.z', now), false);
  const other = newSession(keys, now);
  keys.revoked.add((readSession(keys, value, now) as { nonce: string }).nonce);
  assert.equal(validSession(keys, value, now), false, 'ended by a logout');
  assert.equal(validSession(keys, other, now), true, 'another session goes on');
  assert.equal(cookieValue(`a=1; h13_session=${value}; b=2`, 'h13_session'), value);
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

it('failed logins: past the limit in the window, blocked until it moves on', () => {
  const t = new LoginThrottle(3, 60_000);
  for (const at of [0, 10, 20]) {
    assert.equal(t.blocked(at), false);
    t.fail(at);
  }
  assert.equal(t.blocked(30), true);
  assert.equal(t.blocked(59_999), true);
  assert.equal(t.blocked(60_000), false, 'the first failure left the window');
});
