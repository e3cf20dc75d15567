/**
 * The web page's login: a form posts the drain's credential once and gets a session cookie
 * back. The cookie is `v1.EXPIRES.NONCE.MAC`: MAC is an HMAC-SHA256 over the rest and over the
 * password's digest, keyed by a random key kept in the store (settings), so sessions survive a
 * restart, and changing the password ends every session. Nothing about a session is stored.
 *
 * Why a cookie rather than HTTP Basic for the page: a browser keeps Basic credentials until it
 * quits (no logout) and attaches them to requests from any site, cross-site ones included.
 * The cookie is HttpOnly (no script reads it), SameSite=Strict (no other site's page sends
 * it), Secure when the request came over HTTPS (X-Forwarded-Proto from Heroku's router), and
 * expires. State-changing routes (login, logout) also need a same-origin request (Origin or
 * Sec-Fetch-Site), which stops login CSRF too.
 *
 * A logout is the one thing stored about a session (`revoked_sessions`, until the cookie would
 * have expired), and every cookie whose MAC holds is checked against that table when it is
 * presented. Processes sharing a database therefore all refuse a session from the moment the
 * logout that ended it is answered: the row is committed before the answer, and no cache or
 * notification stands between it and the next check (a NOTIFY-fed set would leave a window of
 * a delivery, longer if the listening connection is reconnecting). A cookie whose MAC fails
 * costs no query, so forged cookies cannot load the database.
 */

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Credential } from './auth.js';
import type { Store } from './store.js';

const KEY_SETTING = 'session.hmac-key';
export const SESSION_COOKIE = 'h13_session';

export interface SessionKeys {
  /** HMAC key (from the store) and the password digest the sessions are bound to. */
  readonly key: Buffer;
  readonly bind: Buffer;
  readonly ttlMs: number;
  /**
   * Sessions this process knows to be ended (its own logouts, other processes' through
   * NOTIFY): refused without a query. Not the authority: the store is (`isRevoked`).
   */
  readonly revoked: Set<string>;
  /** Whether the store has the session as ended by a logout on any process. */
  readonly isRevoked: (nonce: string) => Promise<boolean>;
}

export interface Session {
  readonly nonce: string;
  readonly expiresMs: number;
}

export async function sessionKeys(
  store: Store,
  credential: Credential,
  ttlMs: number,
): Promise<SessionKeys> {
  let hex = await store.getSetting(KEY_SETTING);
  // Once: processes sharing a database must sign and check cookies with the same key.
  hex ??= await store.settingOnce(KEY_SETTING, randomBytes(32).toString('hex'));
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    hex = randomBytes(32).toString('hex');
    await store.setSetting(KEY_SETTING, hex);
  }
  return {
    key: Buffer.from(hex, 'hex'),
    bind: credential.password,
    ttlMs,
    revoked: new Set(),
    isRevoked: (nonce) => store.sessionRevoked(nonce),
  };
}

function mac(keys: SessionKeys, body: string): Buffer {
  return createHmac('sha256', keys.key).update(keys.bind).update(body).digest();
}

/** A new session cookie's value, valid for the keys' ttl from now. */
export function newSession(keys: SessionKeys, nowMs: number = Date.now()): string {
  const body = `v1.${nowMs + keys.ttlMs}.${randomBytes(16).toString('base64url')}`;
  return `${body}.${mac(keys, body).toString('base64url')}`;
}

/** The session a cookie value carries, when its MAC is right and it has not expired. */
export function readSession(
  keys: SessionKeys,
  value: string | undefined,
  nowMs: number = Date.now(),
): Session | null {
  if (value === undefined) return null;
  const m = /^(v1\.(\d{1,15})\.([A-Za-z0-9_-]{22}))\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (m === null) return null;
  const given = Buffer.from(m[4] as string, 'base64url');
  const expected = mac(keys, m[1] as string);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const expiresMs = Number(m[2]);
  return expiresMs > nowMs ? { nonce: m[3] as string, expiresMs } : null;
}

/**
 * The session a request's cookie carries, when its MAC holds, it has not expired and no
 * process sharing the store has ended it. Rejects when the store cannot be asked (the request
 * then fails with 500: a session is never taken as valid unchecked).
 */
export async function currentSession(
  keys: SessionKeys,
  req: IncomingMessage,
  nowMs: number = Date.now(),
): Promise<Session | null> {
  const s = readSession(keys, cookieValue(req.headers.cookie, SESSION_COOKIE), nowMs);
  if (s === null || keys.revoked.has(s.nonce)) return null;
  if (await keys.isRevoked(s.nonce)) {
    rememberEnded(keys, s.nonce);
    return null;
  }
  return s;
}

/** Past this many, the set of ended sessions starts again: the store still has them all. */
const ENDED_CACHE_MAX = 4096;

/** Note an ended session in this process's cache (bounded: it only saves store queries). */
export function rememberEnded(keys: SessionKeys, nonce: string): void {
  if (keys.revoked.size >= ENDED_CACHE_MAX) keys.revoked.clear();
  keys.revoked.add(nonce);
}

/** The value of one cookie in a Cookie header (first one wins). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export async function hasSession(keys: SessionKeys, req: IncomingMessage): Promise<boolean> {
  return (await currentSession(keys, req)) !== null;
}

function overHttps(req: IncomingMessage): boolean {
  return (
    (req.socket as { encrypted?: boolean }).encrypted === true ||
    req.headers['x-forwarded-proto'] === 'https'
  );
}

export function sessionCookie(req: IncomingMessage, value: string, maxAgeMs: number): string {
  const secure = overHttps(req) ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(maxAgeMs / 1000)}${secure}`;
}

/**
 * Whether a state-changing request comes from this site's own page. Browsers send Origin on
 * every POST and Sec-Fetch-Site on every request; a request with neither is not from a
 * browser's form and gets no session (scripts use Basic or Bearer instead).
 */
export function sameOrigin(req: IncomingMessage): boolean {
  // Sec-Fetch-Site is set by the browser itself (a page cannot forge it): it decides alone.
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin';
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (origin === undefined || host === undefined) return false;
  const scheme = overHttps(req) ? 'https' : 'http';
  return origin === `${scheme}://${host}`;
}

/**
 * Whether a request was sent by a browser on behalf of another site's page. Drains (logplex),
 * curl and scripts send neither Sec-Fetch-Site nor Origin; a browser sends Sec-Fetch-Site on
 * every request, and Origin on every POST. Such a request must not reach a route guarded by
 * HTTP Basic: a browser that once answered the Basic prompt (of /api) attaches the
 * credential to requests from any site, and /ingest reads text/plain and form bodies, which
 * any page can post without asking.
 */
export function crossSite(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined) return site !== 'same-origin' && site !== 'none';
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  const scheme = overHttps(req) ? 'https' : 'http';
  return origin !== `${scheme}://${req.headers.host ?? ''}`;
}
