/**
 * The process side: signals, crashes, the drain, the hooks, the exit. Installed once, by the
 * first guard() call, whose options it uses.
 *
 * Shutdown timeline (first SIGTERM/SIGINT; later ones are logged and ignored):
 *   0            every response from now on says Connection: close; keep accepting
 *   lateWindowMs   stop accepting (net-level close: Node's http close would also destroy idle
 *                keep-alive sockets at once, racing a request the router is sending);
 *                an idle socket is closed once quiet for idleQuietMs with no new bytes
 *   all closed   onShutdown hooks (hookTimeoutMs), exit 0
 *   drainTimeoutMs what is still owed is answered 503 (or cut if its head already went out),
 *                then hooks and exit
 * A crash runs the same drain with a late window of at most 200 ms (late requests get 503 at
 * once) and crashTimeoutMs, and exits 1.
 */

import cluster from 'node:cluster';
import net from 'node:net';
import { CAUSE, EVENT } from '../core/guard-vocabulary.js';
import { answerFor, canAnswer, cannedResponse } from './answer.js';
import { type DrainView, exitNow, installCoexistence } from './coexist.js';
import { closeNow, cutResponse } from './cut.js';
import type { ResolvedOptions } from './options.js';
import { fitsPlatformWindow } from './options.js';
import type { Output } from './output.js';
import { activeRecord, type RequestRecord } from './record.js';
import { recordForError } from './server-guard.js';
import { errorFrames, errorMessage } from './stack.js';
import { startupLines } from './startup.js';
import { liveRecord, registry, type ServerState, socketState, stats } from './state.js';

export type ShutdownHook = () => unknown;

const hooks: ShutdownHook[] = [];

interface ProcessGuard {
  readonly options: ResolvedOptions;
  readonly out: Output;
}

let installed: ProcessGuard | null = null;

interface Drain {
  readonly reason: 'shutdown' | 'crash';
  /** The app has its own listener for the signal that started the drain. */
  readonly appHandlesSignal: boolean;
  /** The code of the app's own process.exit() during the drain, if it called it. */
  appExitCode: number | undefined;
  /** The exit line is written: from now on the app's process.exit() passes through. */
  over: boolean;
  readonly started: number;
  exitCode: number;
  deadline: NodeJS.Timeout | null;
  late: NodeJS.Timeout | null;
  reaper: NodeJS.Timeout | null;
  deadlineAt: number;
  done: Promise<void>;
  resolve: () => void;
  finishing: boolean;
  /** The servers guarded when the drain started (a closed server leaves the registry). */
  readonly servers: readonly ServerState[];
}

let drain: Drain | null = null;

export function onShutdown(hook: ShutdownHook): void {
  if (typeof hook !== 'function') throw new TypeError('onShutdown expects a function');
  hooks.push(hook);
}

export function installProcessGuard(st: ServerState): void {
  if (installed !== null) return;
  installed = { options: st.options, out: st.out };
  // First in line: the drain must have started before an app's own handler calls
  // server.close() or process.exit(), so that those wait for the drain (coexist.ts).
  for (const signal of st.options.signals) process.prependListener(signal, onSignal);
  installCoexistence(() => drainState());
  startupLines(st);
  if (st.options.crash) {
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onRejection);
  }
  if (!fitsPlatformWindow(st.options)) {
    st.out.line(
      'warning',
      {
        event: EVENT.config,
        desc: 'drainTimeoutMs + hookTimeoutMs do not fit in 28 s: Heroku sends SIGKILL 30 s after SIGTERM',
        drain_timeout_ms: st.options.drainTimeoutMs,
        hook_timeout_ms: st.options.hookTimeoutMs,
      },
      'shutdown budget exceeds the platform window',
    );
  }
}

function onSignal(signal: NodeJS.Signals): void {
  const g = installed;
  if (g === null) return;
  if (drain !== null) {
    // Heroku may signal more than once; a second signal must not cut the drain.
    g.out.line(
      'info',
      {
        event: EVENT.signal_ignored,
        signal,
        phase: registry.phase,
        in_flight: owedRecords().length,
      },
      'signal ignored: already draining',
    );
    return;
  }
  // This listener is one of them: more than one means the app shuts down too.
  const appHandlesSignal = process.listenerCount(signal) > 1;
  startDrain(g, 'shutdown', signal, g.options.lateWindowMs, g.options.drainTimeoutMs, 0, {
    appHandlesSignal,
  });
}

/** Start the graceful shutdown from code (same as the first SIGTERM). */
export function shutdown(): Promise<void> {
  const g = installed;
  if (g === null) return Promise.resolve();
  if (drain !== null) return drain.done;
  return startDrain(g, 'shutdown', 'api', g.options.lateWindowMs, g.options.drainTimeoutMs, 0, {
    appHandlesSignal: false,
  });
}

function onUncaught(err: unknown, origin: string): void {
  // Node passes origin 'unhandledRejection' here under --unhandled-rejections=strict.
  crash(err, origin === 'unhandledRejection' ? 'unhandledRejection' : 'uncaughtException');
}

function onRejection(reason: unknown): void {
  crash(reason, 'unhandledRejection');
}

/**
 * Another listener for the same event means the app decides whether the process lives (Node
 * would not crash either): the guard then only logs and answers the failing request.
 */
function appDecides(g: ProcessGuard, origin: string): boolean {
  if (!g.options.deferCrashToApp) return false;
  const event = origin === 'unhandledRejection' ? 'unhandledRejection' : 'uncaughtException';
  return process.listenerCount(event) > 1;
}

function crash(err: unknown, origin: string): void {
  const g = installed;
  if (g === null) return;
  const rec = recordForError(err) ?? activeRecord();
  const inFlight = owedRecords();
  const byApp = appDecides(g, origin);
  const what = origin === 'unhandledRejection' ? 'Unhandled rejection' : 'Uncaught exception';
  g.out.line(
    'error',
    {
      event: EVENT.crash,
      desc: byApp
        ? `${what}, passed to the app's own ${origin === 'unhandledRejection' ? 'unhandledRejection' : 'uncaughtException'} listener, which decides whether the process lives (catching them and running on is almost always a bad idea: the app's state is unknown)`
        : what,
      origin,
      handled_by: byApp ? 'app' : 'guard',
      request_id: rec?.id,
      method: rec?.method,
      path: rec?.path,
      route: rec?.route,
      step: rec?.lastStep,
      error: errorMessage(err),
      stack: errorFrames(err, 10),
      in_flight: inFlight.length,
      in_flight_ids: idList(inFlight),
    },
    what,
  );
  // The request whose work threw will never be finished by its handler: answer it 500 when
  // nothing of its response left the process, else send what Node holds and end it (H18).
  if (rec?.owed() && !answerFor(rec, 500, CAUSE.crash, undefined, 'end'))
    cutResponse(rec, CAUSE.crash);
  if (byApp) return;
  if (drain === null) {
    // Not 0: closing the listener inside the crashing tick resets connections the kernel
    // already accepted into the backlog (H13s); a short window lets Node accept them, and
    // they are answered 503 at once.
    startDrain(
      g,
      'crash',
      origin,
      Math.min(g.options.lateWindowMs, 200),
      g.options.crashTimeoutMs,
      1,
      { appHandlesSignal: false },
    );
    return;
  }
  // Crashed while draining: never exit 0 now, and never wait longer than a crash allows.
  drain.exitCode = 1;
  if (registry.phase === 'draining') registry.phase = 'crashing';
  const by = performance.now() + g.options.crashTimeoutMs;
  if (!drain.finishing && by < drain.deadlineAt) armDeadline(g, drain, by);
}

function startDrain(
  g: ProcessGuard,
  reason: 'shutdown' | 'crash',
  trigger: string,
  lateWindowMs: number,
  budget: number,
  exitCode: number,
  app: { readonly appHandlesSignal: boolean },
): Promise<void> {
  let resolve!: () => void;
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  const d: Drain = {
    reason,
    appHandlesSignal: app.appHandlesSignal,
    appExitCode: undefined,
    over: false,
    started: performance.now(),
    exitCode,
    deadline: null,
    late: null,
    reaper: null,
    deadlineAt: Number.POSITIVE_INFINITY,
    done,
    resolve,
    finishing: false,
    servers: [...registry.servers],
  };
  drain = d;
  registry.phase = reason === 'crash' ? 'crashing' : 'draining';
  if (cluster.isWorker && typeof process.send === 'function') {
    // Tell an h13/cluster primary this worker got the signal itself (no need to forward one).
    process.send({ h13: 'draining' }, undefined, undefined, () => {});
  }
  const inFlight = owedRecords();
  for (const rec of inFlight) if (!rec.res.headersSent) rec.res.shouldKeepAlive = false;
  if (reason === 'shutdown') {
    g.out.line(
      'info',
      {
        event: EVENT.shutdown,
        desc: 'Graceful shutdown started',
        signal: trigger,
        in_flight: inFlight.length,
        in_flight_ids: idList(inFlight),
        late_window_ms: lateWindowMs,
        drain_timeout_ms: budget,
      },
      'Graceful shutdown started',
    );
  }
  armDeadline(g, d, d.started + budget);
  if (lateWindowMs > 0) {
    d.late = setTimeout(() => stopAccepting(g, d), lateWindowMs);
  } else stopAccepting(g, d);
  return done;
}

function armDeadline(g: ProcessGuard, d: Drain, at: number): void {
  if (d.deadline !== null) clearTimeout(d.deadline);
  d.deadlineAt = at;
  d.deadline = setTimeout(() => onDeadline(g, d), Math.max(0, at - performance.now()));
}

function stopAccepting(g: ProcessGuard, d: Drain): void {
  d.late = null;
  const closing: Promise<void>[] = [];
  for (const st of registry.servers) {
    // net-level close: stop accepting, and let the reaper decide which idle sockets to close.
    st.closed = new Promise<void>((resolve) => {
      net.Server.prototype.close.call(st.server, () => resolve());
    });
    closing.push(st.closed);
  }
  const quiet = g.options.idleQuietMs;
  d.reaper = setInterval(() => reapIdle(quiet), Math.max(5, Math.floor(quiet / 4)));
  d.reaper.unref();
  reapIdle(quiet);
  void Promise.all(closing).then(() => finish(g, d));
}

/** Close keep-alive sockets that have been idle, with no new byte, for `quiet` ms. */
function reapIdle(quiet: number): void {
  const now = performance.now();
  for (const st of registry.servers) {
    for (const socket of st.sockets) {
      const s = socketState(socket);
      if (s === undefined) continue;
      if (liveRecord(s) !== null || socket.readableLength > 0) {
        s.quietBytes = -1;
        continue;
      }
      if (socket.bytesRead !== s.quietBytes) {
        s.quietBytes = socket.bytesRead;
        s.quietSince = now;
        continue;
      }
      if (now - s.quietSince < quiet) continue;
      if (s.requests === 0 && socket.bytesRead > 0) partialRequest(socket, s.server);
      else closeNow(socket);
    }
  }
}

/**
 * A connection whose first request head stalled half-sent through the drain: answered 408, as
 * Node's own request timeout would, and logged as the guard's close, never blamed on the app.
 */
function partialRequest(socket: net.Socket, st: ServerState): void {
  if (canAnswer(socket, null)) {
    socket.write(cannedResponse(408, undefined));
    stats.answered++;
  }
  st.out.line(
    'warning',
    {
      event: EVENT.answered,
      desc: 'Answered 408 by the guard: a request head was still incomplete when the drain closed idle connections',
      status: 408,
      cause: CAUSE.shutdown,
      remote_addr: socket.remoteAddress,
      bytes_read: socket.bytesRead,
    },
    'Answered 408 by the guard',
  );
  closeNow(socket);
}

function onDeadline(g: ProcessGuard, d: Drain): void {
  d.deadline = null;
  if (d.finishing) return;
  if (d.late !== null) {
    clearTimeout(d.late);
    stopAccepting(g, d);
  }
  const cause = d.reason === 'crash' || d.exitCode !== 0 ? CAUSE.crash : CAUSE.shutdown_deadline;
  const left = owedRecords();
  for (const rec of left) {
    if (answerFor(rec, 503, cause, undefined, 'end')) continue;
    cutResponse(rec, cause);
  }
  for (const st of registry.servers) {
    for (const socket of st.sockets) {
      const s = socketState(socket);
      if (s === undefined || liveRecord(s) === null) closeNow(socket);
    }
  }
  g.out.line(
    d.exitCode === 0 ? 'warning' : 'error',
    {
      event: EVENT.drain_deadline,
      desc: 'Drain deadline reached: unfinished requests answered 503 or cut',
      unfinished: left.length,
      unfinished_ids: idList(left),
    },
    'Drain deadline reached',
  );
  // The 503s are on their way; give the sockets a moment to flush and close.
  const flush = setTimeout(() => finish(g, d), 500);
  flush.unref();
  void Promise.all([...registry.servers].map((st) => st.closed ?? Promise.resolve())).then(() =>
    finish(g, d),
  );
}

async function finish(g: ProcessGuard, d: Drain): Promise<void> {
  if (d.finishing) return;
  d.finishing = true;
  if (d.deadline !== null) clearTimeout(d.deadline);
  if (d.reaper !== null) clearInterval(d.reaper);
  registry.phase = 'exiting';
  // A destroyed socket emits 'close' (and its response's 'close', which writes the H18/H27
  // line) in the loop's close phase, after the server's own close callback: let those run
  // before the exit line.
  for (let i = 0; i < 50 && d.servers.some((st) => st.sockets.size > 0); i++)
    await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setImmediate(resolve));
  await runHooks(g);
  const left = owedRecords();
  const code = d.exitCode !== 0 ? d.exitCode : (d.appExitCode ?? 0);
  // The app shuts down too and has not asked to exit: its own close callbacks have run (they
  // fire when the guard's close completes); leave the exit to it, bounded by hookTimeoutMs.
  const leaveToApp = d.appHandlesSignal && d.appExitCode === undefined;
  g.out.line(
    code === 0 ? 'info' : 'error',
    {
      event: EVENT.exit,
      desc:
        code !== 0 && d.reason === 'crash'
          ? 'Exiting after a crash'
          : leaveToApp
            ? `Drain complete; the app's own shutdown ends the process (at the latest in ${g.options.hookTimeoutMs} ms)`
            : 'Shutdown complete',
      exit_code: code,
      elapsed: Math.round(performance.now() - d.started),
      requests: stats.requests,
      h13: stats.h13,
      h18: stats.h18,
      answered: stats.answered,
      unfinished_ids: idList(left),
    },
    code === 0 ? 'Shutdown complete' : 'Exiting after a crash',
  );
  d.over = true;
  d.resolve();
  if (!g.options.exit && d.appExitCode === undefined) return;
  if (!leaveToApp) {
    exitNow(code);
    return;
  }
  // Unref'd: an app whose loop empties ends on its own, with its own exit code.
  setTimeout(() => exitNow(code), g.options.hookTimeoutMs).unref();
}

/** The drain as coexist.ts needs it: is one running, does the app shut down too. */
function drainState(): DrainView | null {
  const d = drain;
  if (d === null) return null;
  return {
    reason: d.reason,
    appHandlesSignal: d.appHandlesSignal,
    over: d.over,
    appExit(code: number) {
      const first = d.appExitCode === undefined;
      d.appExitCode = code;
      if (first && installed !== null) {
        installed.out.line(
          'info',
          {
            event: EVENT.app_exit,
            desc: 'process.exit() during the drain: the process ends when the drain does',
            exit_code: code,
            in_flight: owedRecords().length,
          },
          'process.exit() deferred until the drain is over',
        );
      }
    },
  };
}

async function runHooks(g: ProcessGuard): Promise<void> {
  if (hooks.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), g.options.hookTimeoutMs);
  });
  const all = Promise.allSettled(hooks.map((hook) => Promise.resolve().then(hook)));
  const result = await Promise.race([all, timeout]);
  clearTimeout(timer);
  if (result === 'timeout') {
    g.out.line(
      'warning',
      {
        event: EVENT.hooks,
        desc: 'onShutdown hooks did not finish in time',
        timeout: g.options.hookTimeoutMs,
      },
      'onShutdown hooks did not finish in time',
    );
    return;
  }
  for (const r of result) {
    if (r.status === 'rejected') {
      g.out.line(
        'error',
        { event: EVENT.hooks, desc: 'An onShutdown hook failed', error: errorMessage(r.reason) },
        'An onShutdown hook failed',
      );
    }
  }
}

/** Every request on a guarded server still owing a complete response. */
export function owedRecords(): RequestRecord[] {
  const out: RequestRecord[] = [];
  for (const st of registry.servers) {
    for (const socket of st.sockets) {
      const s = socketState(socket);
      const rec = s === undefined ? null : liveRecord(s);
      if (rec?.owed()) out.push(rec);
    }
  }
  return out;
}

function idList(records: readonly RequestRecord[]): string | undefined {
  return records.length === 0 ? undefined : records.map((r) => r.id).join(',');
}
