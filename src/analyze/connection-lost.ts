/**
 * H13, H18 (and the shared part of H12 and the other codes): what ended the connection,
 * from the strongest evidence down. docs/analyze.md lists the rules in the same order.
 */

import type { RouterRecord } from '../core/router-line.js';
import type { Evidence } from './evidence.js';
import {
  EXIT_AFTER_US,
  guardCause,
  MEMORY_US,
  ms,
  pick,
  RELEASE_US,
  SHUTDOWN_US,
  SLACK_US,
  type Verdict,
  type Windows,
} from './verdict.js';

/** H13, H18 (and the shared part of H12): what ended the connection. */
export function connectionLost(
  r: RouterRecord,
  w: Windows,
  ev: readonly Evidence[],
  /** The releases near the error (kept apart from `ev`, see diagnose.ts). */
  releases: readonly Evidence[],
): Verdict | null {
  const dyno = r.dyno ?? undefined;
  const guard = ev.filter((e) => e.kind === 'guard');
  if (guard.length > 0) {
    const g = guard[0] as Evidence;
    const cause = guardCause(g.detail);
    const release = pick(releases, ['release'], w.t - RELEASE_US, w.after);
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
    const release = pick(releases, ['release'], s.micros - RELEASE_US, w.after);
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
  // The dyno's restarts and the releases, in time order.
  const restarts =
    dyno === undefined ? [] : pick(ev, ['restart'], w.t - SHUTDOWN_US, w.t + SLACK_US, dyno);
  const restartHere = restarts
    .concat(pick(releases, ['release'], w.t - SHUTDOWN_US, w.t + SLACK_US))
    .sort((a, b) => a.micros - b.micros);
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
