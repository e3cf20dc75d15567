/**
 * The rules: from a router error and the evidence gathered around it, name one cause with a
 * confidence and the lines that prove it. Rules are tried strongest first; docs/analyze.md
 * describes each one in the same order.
 */

import type { RouterRecord } from '../core/router-line.js';
import type { CauseId, Confidence } from './causes.js';
import type { Evidence, EvidenceKind } from './evidence.js';

export interface Verdict {
  readonly cause: CauseId;
  readonly confidence: Confidence;
  /** Why this cause, in one sentence, naming the evidence. */
  readonly reason: string;
  /** The evidence lines the verdict rests on (a subset of what was gathered). */
  readonly proof: readonly Evidence[];
}

/** Windows around the router line's time `t`, in microseconds. */
export interface Windows {
  /** When the request started on the dyno: t − service − connect − slack. */
  readonly requestStart: number;
  readonly t: number;
  /** t + the evidence window (grace for lines logged after the router line). */
  readonly after: number;
}

export const SLACK_US = 1_000_000;
/** SIGTERM this long before the router line still explains it (Heroku's 30 s to SIGKILL). */
export const SHUTDOWN_US = 35_000_000;
/** A release this long before the SIGTERM still explains the restart. */
export const RELEASE_US = 180_000_000;
export const MEMORY_US = 60_000_000;
/** The dyno manager logs the exit this long after the close at most. */
export const EXIT_AFTER_US = 2_000_000;
/** For H10: how far back a crash explains a crashed app. */
export const CRASH_LOOKBACK_US = 600_000_000;

const STANDARD_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'TRACE',
  'PROPFIND',
  'PROPPATCH',
  'MKCOL',
  'COPY',
  'MOVE',
  'LOCK',
  'UNLOCK',
  'REPORT',
  'SEARCH',
  'PURGE',
]);

// Characters RFC 3986 allows in a path and query, plus `%` followed by two hex digits.
const PATH_OK = /^(?:\/|\*$)(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?[\]]|%[0-9A-Fa-f]{2})*$/;

/** A request Node's HTTP parser (llhttp) would refuse, or a client doing something odd. */
export function isOddRequest(method: string, path: string): boolean {
  if (!STANDARD_METHODS.has(method)) return true;
  if (path.length > 8000) return true;
  return !PATH_OK.test(path);
}

/** Router 2.0 logs `protocol=http1.1`/`http2.0` and `tls=`; the legacy router http/https. */
export function isRouter2(r: RouterRecord): boolean {
  return r.tls !== null || (r.protocol?.startsWith('http') === true && r.protocol.length > 5);
}

const GUARD_CAUSES: ReadonlyArray<[RegExp, CauseId]> = [
  [/memory|oom|heap/i, 'out-of-memory'],
  [/crash|uncaught|exception|rejection|exit|fatal/i, 'app-crash'],
  [/shutdown|sigterm|drain|deadline|late|stopping/i, 'restart-race'],
  [/keep.?alive|idle.?socket/i, 'keep-alive-race'],
  [/client.?error|parse|bad.?request|malformed/i, 'bad-client'],
  [/timeout|timed.?out/i, 'socket-timeout'],
  [/partial|mid.?response|aborted.?response/i, 'partial-response'],
  [/destroy|closed|reset/i, 'silent-close'],
];

export function guardCause(cause: string): CauseId {
  for (const [pattern, id] of GUARD_CAUSES) if (pattern.test(cause)) return id;
  return 'guard-reported';
}

function inRange(e: Evidence, from: number, to: number): boolean {
  return e.micros >= from && e.micros <= to;
}

function pick(
  evidence: readonly Evidence[],
  kinds: readonly EvidenceKind[],
  from: number,
  to: number,
  process?: string,
): Evidence[] {
  return evidence.filter(
    (e) =>
      kinds.includes(e.kind) &&
      inRange(e, from, to) &&
      (process === undefined || e.process === process),
  );
}

const ms = (us: number): string => `${Math.round(us / 1000)} ms`;

/** H13, H18 (and the shared part of H12): what ended the connection. */
function connectionLost(r: RouterRecord, w: Windows, ev: readonly Evidence[]): Verdict | null {
  const dyno = r.dyno ?? undefined;
  const guard = ev.filter((e) => e.kind === 'guard');
  if (guard.length > 0) {
    const g = guard[0] as Evidence;
    const cause = guardCause(g.detail);
    const release = pick(ev, ['release'], w.t - RELEASE_US, w.after);
    return {
      cause: cause === 'restart-race' && release.length > 0 ? 'deploy-race' : cause,
      confidence: 'high',
      reason: `the guard logged this request id with cause "${g.detail}"`,
      proof: [...guard, ...release.slice(0, 1)],
    };
  }
  const withId = ev.filter((e) => e.kind === 'request-id');
  const timeout = pick(ev, ['worker-timeout'], w.requestStart, w.after, dyno);
  if (timeout.length > 0) {
    return {
      cause: 'worker-timeout',
      confidence: 'high',
      reason: `the app server killed a worker on ${dyno} during the request`,
      proof: [...timeout, ...withId].slice(0, 8),
    };
  }
  // A crash that drops this request starts before the router sees the close: its error
  // lines come first, then the close, then the dyno manager's exit line.
  const stack = pick(ev, ['stack'], w.requestStart, w.t, dyno);
  let died = pick(ev, ['exit', 'crash'], w.t - SLACK_US, w.t + EXIT_AFTER_US, dyno);
  const exit = died[0];
  if (exit !== undefined) {
    const dump = pick(ev, ['stack'], exit.micros - EXIT_AFTER_US, exit.micros, dyno);
    // The exit follows a crash that began after this request had closed: not its cause.
    if (dump.length > 0 && dump.every((e) => e.micros > w.t)) died = [];
  }
  const memory = pick(ev, ['memory'], w.t - MEMORY_US, w.after, dyno);
  if (memory.length > 0 && (died.length > 0 || memory.some((e) => e.detail === 'out of memory'))) {
    return {
      cause: 'out-of-memory',
      confidence: died.length > 0 ? 'high' : 'medium',
      reason: `${memory[0]?.detail} on ${dyno}${died.length > 0 ? `, then ${died[0]?.detail}` : ''}`,
      proof: [...memory.slice(0, 3), ...died.slice(0, 2), ...stack.slice(0, 4)],
    };
  }
  const sigterm = pick(ev, ['sigterm'], w.t - SHUTDOWN_US, w.after, dyno);
  if (sigterm.length > 0) {
    const s = sigterm[0] as Evidence;
    const release = pick(ev, ['release'], s.micros - RELEASE_US, w.after);
    const before = s.micros <= w.t;
    return {
      cause: release.length > 0 ? 'deploy-race' : 'restart-race',
      confidence: before ? 'high' : 'medium',
      reason: before
        ? `${dyno} got SIGTERM ${ms(w.t - s.micros)} before the router gave up on the request${release.length > 0 ? ` (after ${release[0]?.detail})` : ''}`
        : `${dyno} got SIGTERM ${ms(s.micros - w.t)} after the request failed${release.length > 0 ? ` (after ${release[0]?.detail})` : ''}`,
      proof: [...release.slice(-1), ...sigterm.slice(0, 2), ...died.slice(0, 2)],
    };
  }
  if (died.length > 0) {
    return {
      cause: 'app-crash',
      confidence: stack.length > 0 ? 'high' : 'medium',
      reason:
        stack.length > 0
          ? `an error was logged on ${dyno} and the process then exited (${died[0]?.detail})`
          : `the process on ${dyno} exited during the request (${died[0]?.detail})`,
      proof: [...stack.slice(0, 6), ...died.slice(0, 2)],
    };
  }
  const restart = pick(ev, ['restart', 'release'], w.t - SHUTDOWN_US, w.t + SLACK_US);
  const restartHere = restart.filter((e) => e.kind === 'release' || e.process === dyno);
  if (restartHere.length > 0) {
    const release = restartHere.some((e) => e.kind === 'release');
    return {
      cause: release ? 'deploy-race' : 'restart-race',
      confidence: 'medium',
      reason: `${restartHere[0]?.detail} close to the request (no SIGTERM line in the logs)`,
      proof: restartHere.slice(0, 3),
    };
  }
  if (stack.length > 0) {
    return {
      cause: 'app-error',
      confidence: 'medium',
      reason: `an error was logged on ${dyno} inside the request window`,
      proof: [...withId.slice(0, 2), ...stack.slice(0, 6)],
    };
  }
  return null;
}

/** Rules for the codes that need no app evidence (or when none was found). */
function noEvidence(r: RouterRecord, ev: readonly Evidence[]): Verdict {
  const withId = ev.filter((e) => e.kind === 'request-id').slice(0, 4);
  const service = r.serviceMs ?? 0;
  if (r.code === 'H18') {
    return {
      cause: 'partial-response',
      confidence: 'medium',
      reason: `the dyno closed the connection after ${r.bytes ?? '?'} bytes of the response, with nothing logged`,
      proof: withId,
    };
  }
  if (isOddRequest(r.method, r.path)) {
    return {
      cause: 'bad-client',
      confidence: 'medium',
      reason: `the request itself is odd (${r.method} ${r.path.slice(0, 60)}) and the app logged nothing`,
      proof: withId,
    };
  }
  if (isRouter2(r) && service <= 100 && withId.length === 0) {
    return {
      cause: 'keep-alive-race',
      confidence: r.method === 'POST' || service <= 10 ? 'medium' : 'low',
      reason: `Router 2.0 (${r.protocol}), no app evidence, the close came ${service} ms into the request`,
      proof: [],
    };
  }
  if (service >= 28_000) {
    return {
      cause: 'worker-timeout',
      confidence: 'low',
      reason: `closed after ${service} ms with nothing logged: the length of an app-server worker timeout`,
      proof: withId,
    };
  }
  if (service >= 500) {
    return {
      cause: 'socket-timeout',
      confidence: 'low',
      reason: `closed after ${service} ms of silence with nothing logged: a socket or server timeout`,
      proof: withId,
    };
  }
  if (withId.length > 0) {
    return {
      cause: 'silent-close',
      confidence: 'medium',
      reason: 'the app logged this request id but never answered it',
      proof: withId,
    };
  }
  return {
    cause: 'silent-close',
    confidence: 'low',
    reason: `closed ${service} ms into the request with no crash, error or restart nearby`,
    proof: [],
  };
}

/** H10 and H20: the dynos are down or not up yet. */
function appDown(r: RouterRecord, w: Windows, ev: readonly Evidence[]): Verdict {
  const boot = pick(ev, ['boot-failure'], w.t - CRASH_LOOKBACK_US, w.after);
  const crash = pick(ev, ['crash', 'exit'], w.t - CRASH_LOOKBACK_US, w.after);
  const stack = pick(ev, ['stack', 'memory'], w.t - CRASH_LOOKBACK_US, w.after);
  if (boot.length > 0) {
    return {
      cause: 'boot-failure',
      confidence: 'high',
      reason: `${boot[boot.length - 1]?.process}: ${boot[boot.length - 1]?.detail}`,
      proof: [...stack.slice(-6), ...boot.slice(-2)],
    };
  }
  if (crash.length > 0) {
    return {
      cause: 'crashed-dyno',
      confidence: 'high',
      reason: `${crash[crash.length - 1]?.process} crashed (${crash[crash.length - 1]?.detail})`,
      proof: [...stack.slice(-6), ...crash.slice(-2)],
    };
  }
  return {
    cause: r.code === 'H20' ? 'boot-failure' : 'crashed-dyno',
    confidence: 'low',
    reason: 'no crash or boot line in the logs read (it may be older)',
    proof: [],
  };
}

export function decide(r: RouterRecord, w: Windows, evidence: readonly Evidence[]): Verdict {
  switch (r.code) {
    case 'H27':
    case 'H28':
      return {
        cause: 'client-side',
        confidence: 'high',
        reason: 'sock=client: the client side',
        proof: [],
      };
    case 'H10':
    case 'H20':
      return appDown(r, w, evidence);
    case 'H12': {
      const found = connectionLost(r, w, evidence);
      if (found !== null && (found.cause === 'worker-timeout' || found.cause === 'out-of-memory'))
        return found;
      return {
        cause: 'slow-request',
        confidence: 'high',
        reason: `no response byte within 30 s (service=${r.serviceMs ?? '?'}ms)`,
        proof: found === null ? [] : found.proof,
      };
    }
    case 'H13':
    case 'H18':
      return connectionLost(r, w, evidence) ?? noEvidence(r, evidence);
    default: {
      const found = connectionLost(r, w, evidence);
      return {
        cause: 'router-code',
        confidence: 'high',
        reason: found === null ? `${r.code}: ${r.desc ?? ''}` : `${r.code}; also: ${found.reason}`,
        proof: found === null ? [] : found.proof,
      };
    }
  }
}
