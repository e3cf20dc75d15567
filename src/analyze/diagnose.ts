/**
 * The rules: from a router error and the evidence gathered around it, name one cause with a
 * confidence and the lines that prove it. Rules are tried strongest first (connection-lost.ts,
 * then no-evidence.ts for H13/H18; the app-down rules here for H10/H20); docs/analyze.md
 * describes each one in the same order.
 */

import type { RouterRecord } from '../core/router-line.js';
import { accessKey } from './access-line.js';
import { connectionLost } from './connection-lost.js';
import type { Evidence } from './evidence.js';
import { REPEAT_US } from './h12-repeats.js';
import { noEvidence } from './no-evidence.js';
import {
  CRASH_LOOKBACK_US,
  EXIT_AFTER_US,
  ms,
  pick,
  SLACK_US,
  type Verdict,
  type Windows,
} from './verdict.js';

/** H10 and H20: the dynos are down or not up yet. */
function appDown(r: RouterRecord, w: Windows, ev: readonly Evidence[]): Verdict {
  const from = w.t - CRASH_LOOKBACK_US;
  const boot = pick(ev, ['boot-failure'], from, w.after);
  const crash = pick(ev, ['crash', 'exit'], from, w.after);
  const stack = pick(ev, ['stack', 'memory'], from, w.after);
  if (boot.length > 0) {
    const b = boot[boot.length - 1] as Evidence;
    return {
      cause: 'boot-failure',
      confidence: 'high',
      reason: `${b.process}: ${b.detail}`,
      proof: [...stack.slice(-6), ...boot.slice(-2)],
    };
  }
  // An exit or crash while the dyno was still starting (no `starting → up` since): it never booted.
  const states = pick(ev, ['starting', 'up'], from, w.after);
  for (let k = crash.length - 1; k >= 0; k--) {
    const c = crash[k] as Evidence;
    let last: Evidence | undefined;
    for (const e of states) if (e.process === c.process && e.micros <= c.micros) last = e;
    if (last?.kind === 'starting') {
      return {
        cause: 'boot-failure',
        confidence: 'high',
        reason: `${c.process} ${c.detail === 'exited' ? 'exited' : `exited (${c.detail})`} while it was starting (${last.detail}, never up)`,
        proof: [last, ...stack.slice(-6), c],
      };
    }
  }
  if (crash.length > 0) {
    const c = crash[crash.length - 1] as Evidence;
    return {
      cause: 'crashed-dyno',
      confidence: 'high',
      reason: `${c.process} crashed (${c.detail})`,
      proof: [...stack.slice(-6), ...crash.slice(-2)],
    };
  }
  return {
    cause: r.code === 'H20' ? 'boot-failure' : 'crashed-dyno',
    confidence: 'low',
    reason:
      r.code === 'H20'
        ? 'the router gave up waiting for a dyno to boot; the logs read do not show why'
        : 'the router found no web dyno running; the logs read do not show why it crashed (it may be older than them)',
    proof: [],
  };
}

/** Causes connectionLost names that hold for an H12 too (the rest do not fit a 30 s wait). */
const H12_FROM_CONNECTION = new Set<string>([
  'out-of-memory',
  'worker-died',
  'main-process-exit',
  'restart-race',
  'deploy-race',
]);

/** H12: the router waited 30 s for the response. Why the handler never answered, if shown. */
function requestTimeout(
  r: RouterRecord,
  w: Windows,
  ev: readonly Evidence[],
  releases: readonly Evidence[],
): Verdict {
  const found = connectionLost(r, w, ev, releases);
  if (found !== null) {
    if (found.proof.some((e) => e.kind === 'guard')) return found;
    if (H12_FROM_CONNECTION.has(found.cause)) return found;
  }
  const dyno = r.dyno ?? undefined;
  const service = `service=${r.serviceMs ?? '?'}ms`;
  const slow = pick(ev, ['worker-timeout', 'slow'], w.requestStart, w.after, dyno).concat(
    ev.filter((e) => e.kind === 'access' && (e.access?.durationMs ?? 0) >= 29_000),
  );
  if (slow.length > 0) {
    return {
      cause: 'slow-request',
      confidence: 'high',
      reason: `the request was still running when the router gave up (${service}): ${slow[0]?.detail}`,
      proof: slow.slice(0, 4),
    };
  }
  // A request logged finishing after 30 s on another dyno than the router line names.
  const elsewhere = pick(ev, ['slow'], w.t, w.after).filter((e) => e.process !== dyno);
  if (elsewhere.length > 0) {
    return {
      cause: 'slow-request',
      confidence: 'medium',
      reason: `${elsewhere[0]?.process} logged a request finishing after the router gave up (${service}): ${elsewhere[0]?.detail}`,
      proof: elsewhere.slice(0, 2),
    };
  }
  const noStatus = pick(ev, ['no-status'], w.requestStart, w.after, dyno).concat(
    ev.filter(
      (e) => e.kind === 'access' && e.access?.started === false && e.access.status === null,
    ),
  );
  if (noStatus.length > 0) {
    return {
      cause: 'handler-never-answered',
      confidence: 'high',
      reason: `the handler never answered: the access log shows the request without a status (${noStatus[0]?.detail})`,
      proof: noStatus.slice(0, 3),
    };
  }
  const errors = pick(ev, ['stack'], w.requestStart, w.t + EXIT_AFTER_US, dyno);
  if (errors.length > 0) {
    const first = errors[0] as Evidence;
    return {
      cause: 'handler-never-answered',
      confidence: 'medium',
      reason: `the handler never answered: an error was logged on ${first.process} ${ms(Math.max(0, first.micros - w.requestStart - SLACK_US))} into the request and no response followed`,
      proof: errors.slice(0, 6),
    };
  }
  const connection = pick(ev, ['connection-failed'], Number.NEGATIVE_INFINITY, w.t, dyno);
  if (connection.length > 0) {
    const c = connection[connection.length - 1] as Evidence;
    return {
      cause: 'handler-never-answered',
      confidence: 'medium',
      reason: `the handler never answered: a connection failed on ${c.process} (${c.detail}) and the process stayed up, taking requests it could not serve`,
      proof: connection.slice(-3),
    };
  }
  const entry = ev.filter(
    (e) => e.kind === 'request-id' && (dyno === undefined || e.process === dyno),
  );
  if (entry.length > 0) {
    return {
      cause: 'slow-request',
      confidence: 'medium',
      reason: `${entry[0]?.process} logged the request and never its answer within 30 s (${service})`,
      proof: entry.slice(0, 4),
    };
  }
  const repeated = routeRepeats(r, w.t, ev);
  if (repeated !== null) return repeated;
  return {
    cause: 'unknown',
    confidence: 'low',
    reason: `no response within 30 s (${service}); the logs read hold no evidence of why (a slow handler, a lost error, a busy process)`,
    proof: found?.proof ?? [],
  };
}

/**
 * Other H12s on the same route close by (h12-repeats.ts adds them only when no fewer came on
 * other routes): the route itself is slow. Medium at most: the router lines say how long,
 * not why.
 */
function routeRepeats(r: RouterRecord, t: number, ev: readonly Evidence[]): Verdict | null {
  if (r.method === '') return null;
  const key = accessKey(r.method, r.path);
  const repeats = pick(ev, ['timeout-repeat'], t - REPEAT_US, t + REPEAT_US);
  const same = repeats.filter((e) => e.detail === key);
  if (same.length < 2 || same.length < repeats.length - same.length) return null;
  let first = t;
  let last = t;
  for (const e of same) {
    first = Math.min(first, e.micros);
    last = Math.max(last, e.micros);
  }
  return {
    cause: 'slow-request',
    confidence: 'medium',
    reason: `${same.length + 1} H12s on ${key.slice(0, 100)} within ${ms(last - first)}, fewer elsewhere, and no other evidence: the route itself is slow`,
    proof: same.slice(0, 4),
  };
}

/**
 * `releases`: the releases near the error, apart from the rest of its evidence (see
 * PendingErrors: they are not gathered per error); only connectionLost reads them.
 */
export function decide(
  r: RouterRecord,
  w: Windows,
  evidence: readonly Evidence[],
  releases: readonly Evidence[] = [],
): Verdict {
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
    case 'H12':
      return requestTimeout(r, w, evidence, releases);
    case 'H13':
    case 'H18':
      // Before 2015 the router logged a client that went away as H18 with sock=client.
      if (r.code === 'H18' && r.sock === 'client')
        return {
          cause: 'client-side',
          confidence: 'high',
          reason: 'sock=client: the client closed the connection (the legacy form of H27)',
          proof: [],
        };
      return connectionLost(r, w, evidence, releases) ?? noEvidence(r, w, evidence);
    default: {
      const found = connectionLost(r, w, evidence, releases);
      return {
        cause: 'router-code',
        confidence: found === null ? 'medium' : 'high',
        reason: found === null ? `${r.code}: ${r.desc ?? ''}` : `${r.code}; also: ${found.reason}`,
        proof: found === null ? [] : found.proof,
      };
    }
  }
}
