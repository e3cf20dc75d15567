/**
 * Shutdown and crash under traffic. Heroku sends SIGTERM to every process of a dyno at each
 * restart, deploy and scale-down, and SIGKILL 30 s later; the router keeps routing a request or
 * two meanwhile. A request that reached the app and then lost its connection is an H13 (H18 if
 * part of the response was written); a refused connection during the shutdown is an H21 (the
 * router routed it to the stopping dyno: `h13 run` logs the same). A crash drops the request that caused it and every other request in flight.
 */

import { CAUSES } from '../analyze/causes.js';
import { escapeBytes, exchange } from '../http/raw-exchange.js';
import type { Finding } from './findings.js';
import type { AppExit, SpawnedApp } from './spawn.js';
import type { ProbeTarget } from './target.js';
import { dropped, startTraffic, type TrafficCounts } from './traffic.js';

export interface LifecycleOptions {
  readonly path: string;
  readonly workers: number;
  readonly timeoutMs: number;
  /** Time between the first and the second SIGTERM. */
  readonly sigtermGapMs: number;
  /** After the first SIGTERM (or the crash request), when the app is SIGKILLed. */
  readonly shutdownWaitMs: number;
  /** Answered requests before the signal or crash, so traffic is flowing. */
  readonly warmup: number;
  /**
   * How long new requests keep coming after the first SIGTERM or the crash request. Heroku's
   * router still routes "a request or two" to a dyno it has signalled (and to one that has
   * crashed until a connect fails), then stops: traffic that never ends would blame every app
   * for the connections the kernel resets when any listener closes.
   */
  readonly lateWindowMs: number;
}

export interface LifecycleResult {
  readonly phase: 'shutdown' | 'crash';
  /** Requests before the trigger (SIGTERM or the crash request). */
  readonly before: TrafficCounts;
  /** Requests after the trigger. */
  readonly after: TrafficCounts;
  readonly sigterms: number;
  readonly exit: (AppExit & { readonly afterMs: number; readonly killed: boolean }) | null;
  /** The crash request's ending and status (crash phase). */
  readonly crashRequest: { readonly ending: string; readonly status: number | null } | null;
  readonly stderrTail: string[];
  readonly findings: Finding[];
}

// Unref'd: a bound that lost its race must not keep the probe process alive.
const delay = (ms: number) =>
  new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref());

export async function runShutdown(
  app: SpawnedApp,
  options: LifecycleOptions,
): Promise<LifecycleResult> {
  return underTraffic(app, 'shutdown', options, async (startLateWindow) => {
    app.signal('SIGTERM');
    startLateWindow();
    let sigterms = 1;
    const first = await Promise.race([app.exited, delay(options.sigtermGapMs)]);
    if (first === 'timeout' && app.running()) {
      app.signal('SIGTERM');
      sigterms = 2;
    }
    return { sigterms, crashRequest: null };
  });
}

export async function runCrash(
  app: SpawnedApp,
  crashPath: string,
  options: LifecycleOptions,
): Promise<LifecycleResult> {
  const target = appTarget(app, options.path);
  return underTraffic(app, 'crash', options, async (startLateWindow) => {
    startLateWindow();
    const r = await exchange({
      host: target.host,
      port: target.port,
      bytes: `GET ${crashPath} HTTP/1.1\r\nHost: ${target.hostHeader}\r\n\r\n`,
      timeoutMs: options.timeoutMs,
    });
    return { sigterms: 0, crashRequest: { ending: r.ending, status: r.status } };
  });
}

export function appTarget(app: SpawnedApp, path: string): ProbeTarget {
  return { host: '127.0.0.1', port: app.port, hostHeader: `127.0.0.1:${app.port}`, path };
}

async function underTraffic(
  app: SpawnedApp,
  phase: 'shutdown' | 'crash',
  options: LifecycleOptions,
  trigger: (
    startLateWindow: () => void,
  ) => Promise<Pick<LifecycleResult, 'sigterms' | 'crashRequest'>>,
): Promise<LifecycleResult> {
  const traffic = startTraffic(appTarget(app, options.path), {
    workers: options.workers,
    timeoutMs: options.timeoutMs,
  });
  await Promise.race([traffic.answered(options.warmup), delay(options.timeoutMs)]);
  const before = { ...traffic.counts };
  const started = performance.now();
  let stopped: Promise<TrafficCounts> | null = null;
  const stopTraffic = () => {
    stopped ??= traffic.stop();
    return stopped;
  };
  const triggered = await trigger(() => {
    void delay(options.lateWindowMs).then(stopTraffic);
  });
  // An answered crash route either means the app caught the error and lives on, or that it
  // answered and is exiting after a drain (h13 guard does that): wait one request deadline to
  // tell them apart, and measure the drain like any other exit.
  const livesOn =
    phase === 'crash' &&
    triggered.crashRequest?.ending === 'answered' &&
    (await Promise.race([app.exited, delay(options.timeoutMs)])) === 'timeout';
  if (livesOn) {
    // The app answered the crash route and lives on: nothing crashed, nothing to wait for.
    const total = await stopTraffic();
    app.signal('SIGKILL');
    await app.exited;
    const result = {
      phase,
      before,
      after: subtract(total, before),
      sigterms: 0,
      exit: null,
      crashRequest: triggered.crashRequest,
      stderrTail: app.stderrTail(),
    };
    return { ...result, findings: lifecycleFindings(result) };
  }
  const remaining = Math.max(0, options.shutdownWaitMs - (performance.now() - started));
  let killed = false;
  if ((await Promise.race([app.exited, delay(remaining)])) === 'timeout' && app.running()) {
    killed = phase === 'shutdown';
    app.signal('SIGKILL');
  }
  const exit = await app.exited;
  const afterMs = Math.round(performance.now() - started);
  const total = await stopTraffic();
  const after = subtract(total, before);
  const result = {
    phase,
    before,
    after,
    sigterms: triggered.sigterms,
    exit: { ...exit, afterMs, killed },
    crashRequest: triggered.crashRequest,
    stderrTail: app.stderrTail(),
  };
  return { ...result, findings: lifecycleFindings(result) };
}

function subtract(a: TrafficCounts, b: TrafficCounts): TrafficCounts {
  return {
    answered: a.answered - b.answered,
    refused: a.refused - b.refused,
    silent: a.silent - b.silent,
    reset: a.reset - b.reset,
    truncated: a.truncated - b.truncated,
    open: a.open - b.open,
  };
}

/** Exported for the unit test of the cause texts; the probe calls it once per phase. */
export function lifecycleFindings(r: Omit<LifecycleResult, 'findings'>): Finding[] {
  const findings: Finding[] = [];
  const lost = dropped(r.after) + dropped(r.before);
  const code = r.after.truncated > 0 && r.after.silent + r.after.reset === 0 ? 'H18' : 'H13';
  const how = `${r.after.silent} closed silently, ${r.after.reset} reset, ${r.after.truncated} truncated, ${r.after.open} unanswered`;
  if (r.phase === 'shutdown' && lost > 0) {
    findings.push({
      group: 'shutdown',
      id: 'sigterm',
      code,
      summary:
        `${lost} request(s) were accepted and then dropped during shutdown (${how}); ` +
        `${r.after.answered} answered, ${r.after.refused} refused`,
      cause: shutdownCause(r),
      fix: SHUTDOWN_FIX,
    });
  }
  if (r.phase === 'shutdown' && r.after.refused > 0) {
    // Heroku's router still routes a request or two to a dyno after SIGTERM: a refused
    // connection there is H21 (`h13 run` logs it too), not a retry on another dyno.
    findings.push({
      group: 'shutdown',
      id: 'sigterm-refused',
      code: 'H21',
      summary: `${r.after.refused} new request(s) were refused after SIGTERM (the app stopped listening at once); behind Heroku's router, which still routes to a dyno just told to stop, each is an H21`,
      cause: refusedCause(r),
      fix: SHUTDOWN_FIX,
    });
  }
  if (r.phase === 'crash') {
    const crash = r.crashRequest;
    if (crash !== null && ['silent', 'reset', 'truncated', 'open'].includes(crash.ending)) {
      findings.push({
        group: 'crash',
        id: 'crash-request',
        code: crash.ending === 'truncated' ? 'H18' : crash.ending === 'open' ? 'H12' : 'H13',
        summary: `the request that crashed the app got no response (${crash.ending})${exitText(r.exit)}`,
        cause: crashCause(r),
        fix:
          'Catch errors per request and answer 500; on a fatal error answer what is in flight ' +
          '(500/503, Connection: close), stop accepting, drain, then exit (h13 guard does this).',
      });
    }
    if (dropped(r.after) > 0) {
      findings.push({
        group: 'crash',
        id: 'crash-in-flight',
        code,
        summary: `${dropped(r.after)} other request(s) in flight were dropped by the crash (${how})`,
        cause: crashCause(r),
        fix: 'Do not let the process die with requests in flight: answer them, then exit.',
      });
    }
  }
  return findings;
}

/** The one shutdown advice, shared with `h13 analyze` (src/analyze/causes.ts). */
const SHUTDOWN_FIX = CAUSES['restart-race'].fix;

function exitText(exit: LifecycleResult['exit']): string {
  if (exit === null) return '';
  return exit.signal !== null
    ? `; the app was ended by ${exit.signal}`
    : `; the app exited with status ${exit.code}`;
}

function shutdownCause(r: Omit<LifecycleResult, 'findings'>): string {
  const exit = r.exit;
  if (exit === null) return 'The app stopped answering during shutdown.';
  if (exit.killed)
    return `The app did not exit within the shutdown wait after SIGTERM, so it was SIGKILLed (Heroku does this at 30 s: R12) with requests in flight.`;
  if (exit.signal === 'SIGTERM')
    return "No SIGTERM handler: Node's default action ends the process at once and every in-flight request loses its socket.";
  if (r.sigterms === 2)
    return 'The app exited after the second SIGTERM without draining (several shutdown libraries exit on a repeated signal; npm and sh wrappers can deliver SIGTERM twice).';
  return 'The shutdown handler closed connections that carried requests (process.exit() or closeAllConnections() before responses finished, or idle keep-alive sockets closed as a request arrived).';
}

function refusedCause(r: Omit<LifecycleResult, 'findings'>): string {
  // Ended by the signal itself: there was no handler to blame, the listener died with the process.
  if (r.exit?.signal === 'SIGTERM')
    return 'No SIGTERM handler: the process ended at once and its listening socket with it, before the router stopped routing to the dyno.';
  return 'The SIGTERM handler closed the listener (server.close()) before the router stopped routing to the dyno.';
}

function crashCause(r: Omit<LifecycleResult, 'findings'>): string {
  const stack = r.stderrTail.find((line) => /Error|exception|rejection/i.test(line));
  return (
    'An uncaught exception or unhandled rejection ended the process (fatal by default since ' +
    `Node 15), taking every socket with it${exitText(r.exit)}` +
    (stack === undefined ? '.' : `. The app printed: ${escapeBytes(stack.trim(), 200)}`)
  );
}
