/**
 * The rules: from a router error and the evidence gathered around it, name one cause with a
 * confidence and the lines that prove it. Rules are tried strongest first (connection-lost.ts,
 * then no-evidence.ts for H13/H18; the app-down rules here for H10/H20); docs/analyze.md
 * describes each one in the same order.
 */

import type { RouterRecord } from '../core/router-line.js';
import { connectionLost } from './connection-lost.js';
import type { Evidence } from './evidence.js';
import { noEvidence } from './no-evidence.js';
import { CRASH_LOOKBACK_US, pick, type Verdict, type Windows } from './verdict.js';

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
    case 'H12': {
      const found = connectionLost(r, w, evidence, releases);
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
      return connectionLost(r, w, evidence, releases) ?? noEvidence(r, evidence);
    default: {
      const found = connectionLost(r, w, evidence, releases);
      return {
        cause: 'router-code',
        confidence: 'high',
        reason: found === null ? `${r.code}: ${r.desc ?? ''}` : `${r.code}; also: ${found.reason}`,
        proof: found === null ? [] : found.proof,
      };
    }
  }
}
