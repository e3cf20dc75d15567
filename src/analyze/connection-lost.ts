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

/**
 * A dyno started through a launcher that does not wait for its child: npm and yarn scripts
 * and shells exit on SIGTERM at once, and the dyno manager then kills what they started.
 */
const LAUNCHER = /^(?:npm|yarn|pnpm|npx|sh|bash|\/bin\/(?:ba)?sh|nodemon)\b/;

/** Exit statuses that mean a signal: 143 SIGTERM, 137 SIGKILL, 134 SIGABRT (V8's OOM abort). */
const SIGTERM_EXIT = 'status 143';
const KILLED_EXITS = new Set(['status 137', 'status 134']);

/** The dyno named in the proof when the router line named none (a line cut short). */
function where(dyno: string | undefined, proof: readonly Evidence[]): string {
  return dyno ?? proof[0]?.process ?? 'the dyno';
}

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
      reason: `the app server killed a worker on ${where(dyno, timeout)} during the request`,
      proof: [...timeout, ...withId].slice(0, 8),
    };
  }
  // A crash that drops this request starts before the router sees the close: its error
  // lines come first, then the close, then the dyno manager's exit line.
  const stack = pick(ev, ['stack'], w.requestStart, w.t, dyno);
  let died = pick(ev, ['exit', 'crash'], w.t - SLACK_US, w.t + EXIT_AFTER_US, dyno);
  const exit = died[0];
  let laterCrash = false;
  if (exit !== undefined) {
    const dump = pick(ev, ['stack'], exit.micros - EXIT_AFTER_US, exit.micros, dyno);
    // The exit follows a crash that began after this request had closed: not its cause.
    if (dump.length > 0 && dump.every((e) => e.micros > w.t)) {
      died = [];
      laterCrash = true;
    }
  }
  const memory = pick(ev, ['memory'], w.t - MEMORY_US, w.after, dyno);
  const killed = pick(ev, ['kill'], w.t - MEMORY_US, w.after, dyno).concat(
    died.filter((e) => KILLED_EXITS.has(e.detail)),
  );
  const vast = memory.some((e) => e.detail === 'out of memory' || e.detail.startsWith('R15'));
  if (memory.length > 0 && (died.length > 0 || killed.length > 0 || vast)) {
    const end = killed[0] ?? died[0];
    return {
      cause: 'out-of-memory',
      confidence: end !== undefined ? 'high' : 'medium',
      reason: `${memory[memory.length - 1]?.detail} on ${where(dyno, memory)}${end !== undefined ? `, then ${end.detail}` : ''}`,
      proof: [
        ...memory.slice(-3),
        ...killed.slice(0, 2),
        ...died.slice(0, 2),
        ...stack.slice(0, 4),
      ],
    };
  }
  const workerDied = pick(ev, ['worker-died'], w.requestStart, w.after, dyno);
  if (workerDied.length > 0) {
    return {
      cause: 'worker-died',
      confidence:
        workerDied[0] !== undefined && workerDied[0].micros <= w.t + EXIT_AFTER_US
          ? 'high'
          : 'medium',
      reason: `a worker process on ${where(dyno, workerDied)} died during the request: ${workerDied[0]?.detail}`,
      proof: [...workerDied.slice(0, 3), ...withId.slice(0, 2)],
    };
  }
  const sigterm = pick(
    ev,
    ['sigterm', 'shutdown', 'launcher-exit'],
    w.t - SHUTDOWN_US,
    w.after,
    dyno,
  )
    .concat(died.filter((e) => e.detail === SIGTERM_EXIT))
    .sort((a, b) => a.micros - b.micros);
  if (sigterm.length > 0) {
    const s = sigterm[0] as Evidence;
    const release = pick(releases, ['release'], s.micros - RELEASE_US, w.after);
    const before = s.micros <= w.t;
    const on = where(dyno, sigterm);
    const launcherLine = pick(ev, ['launcher-exit'], w.t - SHUTDOWN_US, w.after, dyno);
    const start = pick(ev, ['start'], Number.NEGATIVE_INFINITY, w.t, dyno);
    const started = start[start.length - 1];
    const launched = started !== undefined && LAUNCHER.test(started.detail);
    // The launcher ending the dyno cuts a drain short only where there is one: the app
    // logged its shutdown. An app that logs none may have no SIGTERM handler, and then it
    // ends on the signal by itself (measured with `h13 run`: the same H13 with `web: node
    // app.js` as with `web: npm start`), which is the shutdown race below, launcher or not.
    const draining = sigterm.find((e) => e.kind === 'shutdown');
    const launcherNote =
      launcherLine.length > 0
        ? `; its launcher died of the signal too (${launcherLine[0]?.detail}): start the app directly as well`
        : launched
          ? `; it was also started through \`${started?.detail}\`, which exits on SIGTERM without waiting for the app: start the app directly as well`
          : '';
    if ((launcherLine.length > 0 || launched) && draining !== undefined) {
      return {
        cause: 'main-process-exit',
        confidence: launcherLine.length > 0 || before ? 'high' : 'medium',
        reason:
          launcherLine.length > 0
            ? `${on} was stopping, the app was draining (${draining.detail.slice(0, 80)}), and its launcher died of the signal: ${launcherLine[0]?.detail}`
            : `${on} was stopping, the app was draining (${draining.detail.slice(0, 80)}), and it was started through \`${started?.detail}\`, which exits on SIGTERM without waiting for the app`,
        proof: [
          ...(started === undefined ? [] : [started]),
          ...sigterm.slice(0, 2),
          draining,
          ...launcherLine.slice(0, 1),
          ...died.slice(0, 1),
        ],
      };
    }
    const what =
      s.kind === 'shutdown'
        ? 'the app logged its shutdown'
        : `${on} got ${s.kind === 'exit' ? 'SIGTERM (exit 143)' : s.detail}`;
    return {
      cause: release.length > 0 ? 'deploy-race' : 'restart-race',
      confidence: before ? 'high' : 'medium',
      reason:
        (before
          ? `${what} ${ms(w.t - s.micros)} before the router gave up on the request${release.length > 0 ? ` (after ${release[0]?.detail})` : ''}`
          : `${what} ${ms(s.micros - w.t)} after the request failed${release.length > 0 ? ` (after ${release[0]?.detail})` : ''}`) +
        (launcherNote === '' ? '' : `, and the app logged no shutdown of its own${launcherNote}`),
      proof: [
        ...(launcherNote !== '' && started !== undefined ? [started] : []),
        ...release.slice(-1),
        ...sigterm.slice(0, 2),
        ...launcherLine.slice(0, 1),
        ...died.slice(0, 2),
      ],
    };
  }
  if (died.length > 0) {
    return {
      cause: 'app-crash',
      confidence: stack.length > 0 ? 'high' : 'medium',
      reason:
        stack.length > 0
          ? `an error was logged on ${where(dyno, stack)} and the process then exited (${died[0]?.detail})`
          : `the process on ${where(dyno, died)} exited during the request (${died[0]?.detail})`,
      proof: [...withId.slice(0, 2), ...stack.slice(0, 6), ...died.slice(0, 2)],
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
  // An error logged while the request was open, or just after the router gave up on it
  // (unless a crash followed it: then it is a later request's).
  const errors = laterCrash
    ? stack
    : stack.concat(pick(ev, ['stack'], w.t + 1, w.t + SLACK_US, dyno));
  if (errors.length > 0) {
    const first = errors[0] as Evidence;
    return {
      cause: 'app-error',
      confidence: 'medium',
      reason:
        first.micros <= w.t
          ? `an error was logged on ${where(dyno, errors)} inside the request window`
          : `an error was logged on ${where(dyno, errors)} ${ms(first.micros - w.t)} after the router line, with no exit`,
      proof: [...withId.slice(0, 2), ...errors.slice(0, 6)],
    };
  }
  return null;
}
