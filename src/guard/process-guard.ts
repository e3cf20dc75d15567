/**
 * The process side: signals, crashes, the drain, the hooks, the exit. Installed once, by the
 * first guard() call, whose options it uses.
 *
 * Shutdown timeline (first SIGTERM/SIGINT; later ones are logged and ignored):
 *   0            every response from now on says Connection: close; keep accepting
 *   lateWindow   stop accepting (net-level close: Node's http close would also destroy idle
 *                keep-alive sockets at once, racing a request the router is sending);
 *                an idle socket is closed once quiet for idleQuiet with no new bytes
 *   all closed   onShutdown hooks (hookTimeout), exit 0
 *   drainTimeout what is still owed is answered 503 (or cut if its head already went out),
 *                then hooks and exit
 * A crash runs the same drain with a late window of at most 200 ms (late requests get 503 at
 * once) and crashTimeout, and exits 1.
 */

import cluster from 'node:cluster';
import net from 'node:net';
import { answerFor } from './answer.js';
import type { ResolvedOptions } from './options.js';
import { fitsPlatformWindow } from './options.js';
import type { Output } from './output.js';
import { activeRecord, type RequestRecord } from './record.js';
import { recordForError } from './server-guard.js';
import { errorFrames, errorMessage } from './stack.js';
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
  for (const signal of st.options.signals) process.on(signal, onSignal);
  if (st.options.crash) {
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onRejection);
  }
  if (!fitsPlatformWindow(st.options)) {
    st.out.line(
      'warning',
      {
        event: 'config',
        desc: 'drainTimeout + hookTimeout do not fit in 28 s: Heroku sends SIGKILL 30 s after SIGTERM',
        drain_timeout: st.options.drainTimeout,
        hook_timeout: st.options.hookTimeout,
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
      { event: 'signal_ignored', signal, phase: registry.phase, in_flight: owedRecords().length },
      'signal ignored: already draining',
    );
    return;
  }
  startDrain(g, 'shutdown', signal, g.options.lateWindow, g.options.drainTimeout, 0);
}

/** Start the graceful shutdown from code (same as the first SIGTERM). */
export function shutdown(): Promise<void> {
  const g = installed;
  if (g === null) return Promise.resolve();
  if (drain !== null) return drain.done;
  return startDrain(g, 'shutdown', 'api', g.options.lateWindow, g.options.drainTimeout, 0);
}

function onUncaught(err: unknown, origin: string): void {
  crash(err, origin === 'unhandledRejection' ? 'unhandledRejection' : 'uncaughtException');
}

function onRejection(reason: unknown): void {
  // Another unhandledRejection listener means the app handles rejections itself (Node would
  // not crash either).
  if (process.listenerCount('unhandledRejection') > 1) return;
  crash(reason, 'unhandledRejection');
}

function crash(err: unknown, origin: string): void {
  const g = installed;
  if (g === null) return;
  const rec = recordForError(err) ?? activeRecord();
  const inFlight = owedRecords();
  g.out.line(
    'error',
    {
      event: 'crash',
      desc: origin === 'unhandledRejection' ? 'Unhandled rejection' : 'Uncaught exception',
      origin,
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
    origin === 'unhandledRejection' ? 'Unhandled rejection' : 'Uncaught exception',
  );
  if (rec?.owed()) {
    if (!rec.res.headersSent) answerFor(rec, 500, 'crash', undefined, 'end');
    else {
      rec.cut = 'crash';
      rec.socket.destroy();
    }
  }
  if (drain === null) {
    // Not 0: closing the listener inside the crashing tick resets connections the kernel
    // already accepted into the backlog (H13s); a short window lets Node accept them, and
    // they are answered 503 at once.
    startDrain(g, 'crash', origin, Math.min(g.options.lateWindow, 200), g.options.crashTimeout, 1);
    return;
  }
  // Crashed while draining: never exit 0 now, and never wait longer than a crash allows.
  drain.exitCode = 1;
  if (registry.phase === 'draining') registry.phase = 'crashing';
  const by = performance.now() + g.options.crashTimeout;
  if (!drain.finishing && by < drain.deadlineAt) armDeadline(g, drain, by);
}

function startDrain(
  g: ProcessGuard,
  reason: 'shutdown' | 'crash',
  trigger: string,
  lateWindow: number,
  budget: number,
  exitCode: number,
): Promise<void> {
  let resolve!: () => void;
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  const d: Drain = {
    reason,
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
        event: 'shutdown',
        desc: 'Graceful shutdown started',
        signal: trigger,
        in_flight: inFlight.length,
        in_flight_ids: idList(inFlight),
        late_window: lateWindow,
        drain_timeout: budget,
      },
      'Graceful shutdown started',
    );
  }
  armDeadline(g, d, d.started + budget);
  if (lateWindow > 0) {
    d.late = setTimeout(() => stopAccepting(g, d), lateWindow);
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
  const quiet = g.options.idleQuiet;
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
      if (now - s.quietSince >= quiet) socket.destroy();
    }
  }
}

function onDeadline(g: ProcessGuard, d: Drain): void {
  d.deadline = null;
  if (d.finishing) return;
  if (d.late !== null) {
    clearTimeout(d.late);
    stopAccepting(g, d);
  }
  const cause = d.reason === 'crash' || d.exitCode !== 0 ? 'crash' : 'shutdown_deadline';
  const left = owedRecords();
  for (const rec of left) {
    if (!rec.res.headersSent && answerFor(rec, 503, cause, undefined, 'end')) continue;
    rec.cut = cause;
    rec.socket.destroy();
  }
  for (const st of registry.servers) {
    for (const socket of st.sockets) {
      const s = socketState(socket);
      if (s === undefined || liveRecord(s) === null) socket.destroy();
    }
  }
  g.out.line(
    d.exitCode === 0 ? 'warning' : 'error',
    {
      event: 'drain_deadline',
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
  g.out.line(
    d.exitCode === 0 ? 'info' : 'error',
    {
      event: 'exit',
      desc: d.exitCode === 0 ? 'Shutdown complete' : 'Exiting after a crash',
      exit_code: d.exitCode,
      elapsed: Math.round(performance.now() - d.started),
      requests: stats.requests,
      h13: stats.h13,
      h18: stats.h18,
      answered: stats.answered,
      unfinished_ids: idList(left),
    },
    d.exitCode === 0 ? 'Shutdown complete' : 'Exiting after a crash',
  );
  d.resolve();
  if (g.options.exit) process.exit(d.exitCode);
}

async function runHooks(g: ProcessGuard): Promise<void> {
  if (hooks.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), g.options.hookTimeout);
  });
  const all = Promise.allSettled(hooks.map((hook) => Promise.resolve().then(hook)));
  const result = await Promise.race([all, timeout]);
  clearTimeout(timer);
  if (result === 'timeout') {
    g.out.line(
      'warning',
      {
        event: 'hooks',
        desc: 'onShutdown hooks did not finish in time',
        timeout: g.options.hookTimeout,
      },
      'onShutdown hooks did not finish in time',
    );
    return;
  }
  for (const r of result) {
    if (r.status === 'rejected') {
      g.out.line(
        'error',
        { event: 'hooks', desc: 'An onShutdown hook failed', error: errorMessage(r.reason) },
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
