/**
 * The vocabulary of the rules: a verdict, the time windows around a router line, the
 * thresholds (from Heroku's timers in shared/spec/heroku-router.md), and the guard's causes.
 */

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

/**
 * The evidence of these kinds within [from, to] (and on `process`, when given), in the order
 * gathered. A plain loop: the rules call it several times for each of thousands of errors.
 */
export function pick(
  evidence: readonly Evidence[],
  kinds: readonly EvidenceKind[],
  from: number,
  to: number,
  process?: string,
): Evidence[] {
  const out: Evidence[] = [];
  for (let i = 0; i < evidence.length; i++) {
    const e = evidence[i] as Evidence;
    if (!(e.micros >= from && e.micros <= to)) continue;
    if (process !== undefined && e.process !== process) continue;
    if (kinds.includes(e.kind)) out.push(e);
  }
  return out;
}

export const ms = (us: number): string => `${Math.round(us / 1000)} ms`;
