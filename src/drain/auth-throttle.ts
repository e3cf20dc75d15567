/**
 * Failed credentials, limited per client and over all clients, on every route that checks the
 * credential (Basic, Bearer, the login form), in bounded memory.
 *
 * What is counted is *distinct* wrong credentials in a window, not failed requests. A guesser
 * tries a new password each time; a drain left with an old password after a rotation sends
 * the same wrong one with every batch. Counting requests would let that one stale drain shut
 * out the good drains that logplex sends from the same address; counting distinct guesses
 * does not, and still stops guessing:
 *
 * - per client: past `perClient` distinct wrong credentials from one address in the window,
 *   that address gets 429 (the credential is not even checked) until the window ends;
 * - over all clients: past `global` distinct wrong credentials in the window, every address
 *   gets 429 except those that presented the right credential within `knownMs` (logplex's
 *   addresses, a logged-in browser), so a guesser spread over many addresses cannot lock
 *   the real senders out.
 *
 * A 429 is what logplex retries. Memory: at most `maxClients` addresses tracked (past it, new
 * addresses count only in the global limit), at most `perClient` hashes per address and
 * `global` in all, `maxClients` known addresses; the window's counts are dropped as it ends
 * (fixed windows: a guesser gets at most twice a limit across a window boundary).
 *
 * A client's address is the socket's, or behind Heroku's router (`$DYNO` set) the last
 * `X-Forwarded-For` entry, which the router appends itself; earlier entries are whatever the
 * client wrote.
 */

import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AuthScheme, authorized, type Credential } from './auth.js';
import { sendError } from './http-io.js';

export interface AuthThrottleOptions {
  /** Distinct wrong credentials one address may try in a window. */
  readonly perClient: number;
  /** Distinct wrong credentials all addresses together may try in a window. */
  readonly global: number;
  readonly windowMs: number;
  /** How long an address that presented the right credential stays exempt from `global`. */
  readonly knownMs: number;
  /** Addresses tracked at once (failures and known alike). */
  readonly maxClients: number;
  /** Behind Heroku's router: read the address from the router's X-Forwarded-For entry. */
  readonly behindRouter: boolean;
}

/** The drain's limits: a minute's window; an address known for an hour after a success. */
export const AUTH_LIMITS = {
  perClient: 10,
  global: 50,
  windowMs: 60_000,
  knownMs: 3_600_000,
  maxClients: 10_000,
} as const;

export type AuthVerdict = 'ok' | 'client-limit' | 'global-limit';

const digest = (credential: string) =>
  createHash('sha256').update(credential, 'utf8').digest('base64');

export class AuthThrottle {
  private windowStart = Number.NEGATIVE_INFINITY;
  private readonly wrong = new Set<string>();
  private readonly byClient = new Map<string, Set<string>>();
  private readonly known = new Map<string, number>();

  constructor(readonly options: AuthThrottleOptions) {}

  /** The address a request counts under. */
  clientOf(req: IncomingMessage): string {
    if (this.options.behindRouter) {
      const xff = req.headers['x-forwarded-for'];
      const value = Array.isArray(xff) ? xff[xff.length - 1] : xff;
      const last = value?.split(',').pop()?.trim();
      if (last !== undefined && last !== '') return last;
    }
    return req.socket.remoteAddress ?? '?';
  }

  private roll(nowMs: number): void {
    if (nowMs - this.windowStart < this.options.windowMs) return;
    this.windowStart = nowMs;
    this.wrong.clear();
    this.byClient.clear();
  }

  /** Whether `client` may have a credential checked now. */
  check(client: string, nowMs: number = Date.now()): AuthVerdict {
    this.roll(nowMs);
    if ((this.byClient.get(client)?.size ?? 0) >= this.options.perClient) return 'client-limit';
    if (this.wrong.size >= this.options.global && !this.isKnown(client, nowMs))
      return 'global-limit';
    return 'ok';
  }

  /** `credential` (the Authorization value, or the form's user and password) was wrong. */
  fail(client: string, credential: string, nowMs: number = Date.now()): void {
    this.roll(nowMs);
    const hash = digest(credential);
    if (this.wrong.size < this.options.global) this.wrong.add(hash);
    let mine = this.byClient.get(client);
    if (mine === undefined) {
      if (this.byClient.size >= this.options.maxClients) return;
      mine = new Set();
      this.byClient.set(client, mine);
    }
    if (mine.size < this.options.perClient) mine.add(hash);
  }

  /** `client` presented the right credential: exempt from the global limit for a while. */
  succeed(client: string, nowMs: number = Date.now()): void {
    this.known.delete(client);
    if (this.known.size >= this.options.maxClients) {
      const oldest = this.known.keys().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
    this.known.set(client, nowMs);
  }

  private isKnown(client: string, nowMs: number): boolean {
    const at = this.known.get(client);
    return at !== undefined && nowMs - at < this.options.knownMs;
  }

  /** Whole seconds until the current window ends (for Retry-After). */
  retryAfterS(nowMs: number = Date.now()): number {
    return Math.max(1, Math.ceil((this.windowStart + this.options.windowMs - nowMs) / 1000));
  }
}

export type CredentialOutcome = 'ok' | 'missing' | 'wrong' | Exclude<AuthVerdict, 'ok'>;

/**
 * The credential of a request, checked through the throttle: a client over a limit is not
 * checked at all (so a blocked guesser learns nothing, not even from a right guess).
 */
export function checkCredential(
  throttle: AuthThrottle,
  req: IncomingMessage,
  credential: Credential,
  scheme: AuthScheme,
): CredentialOutcome {
  const header = req.headers.authorization;
  if (header === undefined) return 'missing';
  const client = throttle.clientOf(req);
  const verdict = throttle.check(client);
  if (verdict !== 'ok') return verdict;
  if (!authorized(header, credential, scheme)) {
    throttle.fail(client, header);
    return 'wrong';
  }
  throttle.succeed(client);
  return 'ok';
}

/** The 429 a throttled client gets (logplex retries it; a browser shows the reason). */
export function sendThrottled(
  res: ServerResponse,
  throttle: AuthThrottle,
  verdict: Exclude<AuthVerdict, 'ok'>,
): void {
  sendError(
    res,
    429,
    verdict === 'client-limit'
      ? 'too many wrong credentials from this address: try again later'
      : 'too many wrong credentials from everywhere: try again later',
    { close: true, headers: { 'retry-after': String(throttle.retryAfterS()) } },
  );
}
