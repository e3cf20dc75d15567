/**
 * Which evidence the rules can ever use for an error: a time window per evidence kind. A
 * waiting error keeps only what falls inside, and looks back no further than the widest
 * window. A dyno's old crash snapshots, a memory line from three minutes ago or a stack line
 * logged long after the close can never change its verdict, yet they used to fill its
 * evidence list (and its cap), and every rule walked them.
 *
 * The windows are the union of the `pick` windows in connection-lost.ts (every code but
 * H10/H20, which diagnose.ts's appDown decides, and H27/H28, decided without evidence) and of
 * no-evidence.ts. relevance.test.ts checks on random evidence that filtering never changes a
 * verdict, so a rule whose window grows without this table growing with it fails there.
 *
 * Plain functions over the error's windows (no table per error): they run for every piece of
 * evidence offered to every waiting error.
 */

import type { Evidence } from './evidence.js';
import { REPEAT_US } from './h12-repeats.js';
import {
  CRASH_LOOKBACK_US,
  EXIT_AFTER_US,
  MEMORY_US,
  RELEASE_US,
  SHUTDOWN_US,
  SLACK_US,
  type Windows,
} from './verdict.js';

/** H10 and H20 are decided by appDown: the crash, exit or boot failure behind them. */
export function decidedByAppDown(code: string): boolean {
  return code === 'H10' || code === 'H20';
}

export function isRelevant(appDown: boolean, w: Windows, e: Evidence): boolean {
  const m = e.micros;
  const t = w.t;
  if (appDown) {
    switch (e.kind) {
      case 'boot-failure':
      case 'crash':
      case 'exit':
      case 'stack':
      case 'memory':
      case 'kill':
      case 'starting':
      case 'up':
        return m >= t - CRASH_LOOKBACK_US && m <= w.after;
      default:
        return false;
    }
  }
  switch (e.kind) {
    // Matched by the request id: any time while the error waits.
    case 'guard':
    case 'request-id':
    case 'access':
      return true;
    case 'timeout-repeat':
      return m >= t - REPEAT_US && m <= t + REPEAT_US;
    // How the process serving the request was started: whenever, but before it.
    case 'start':
      return m <= t;
    case 'connection-failed':
      return m <= w.after;
    case 'worker-timeout':
    case 'worker-died':
    case 'no-status':
    case 'slow':
      return m >= w.requestStart && m <= w.after;
    // The request's own errors, and the dump before an exit logged up to EXIT_AFTER late.
    case 'stack':
      return m >= Math.min(w.requestStart, t - SLACK_US - EXIT_AFTER_US) && m <= t + EXIT_AFTER_US;
    case 'exit':
    case 'crash':
      return m >= t - SLACK_US && m <= t + EXIT_AFTER_US;
    case 'memory':
    case 'kill':
      return m >= t - MEMORY_US && m <= w.after;
    case 'sigterm':
    case 'shutdown':
    case 'launcher-exit':
      return m >= t - SHUTDOWN_US && m <= w.after;
    case 'restart':
      return m >= t - SHUTDOWN_US && m <= t + SLACK_US;
    // A release explains a SIGTERM up to RELEASE_US later, and the SIGTERM the error up to
    // SHUTDOWN_US later.
    case 'release':
      return m >= t - SHUTDOWN_US - RELEASE_US && m <= w.after;
    default:
      return false;
  }
}

/** The oldest dyno-manager event (not a release) that can be relevant. */
export function ownEventsFrom(appDown: boolean, w: Windows): number {
  return appDown ? w.t - CRASH_LOOKBACK_US : Math.min(w.t - MEMORY_US, w.requestStart);
}

/** The oldest release that can be relevant (+∞: none can). */
export function releasesFrom(appDown: boolean, w: Windows): number {
  return appDown ? Number.POSITIVE_INFINITY : w.t - SHUTDOWN_US - RELEASE_US;
}
