/**
 * `h13 run` as a library: the dyno manager and the router together, every line in
 * `heroku logs` form, every finished request as a typed record. Tests, the probe and the
 * analyzer's fixtures drive apps through this.
 */

import { CAUSES } from '../analyze/causes.js';
import { formatLogLine, nowMicros } from '../core/heroku-log.js';
import type { LogEntry, LogSink } from '../core/log-sink.js';
import { oneLine } from '../core/log-sink.js';
import type { RouterFlavor, RouterRecord } from '../core/router-line.js';
import type { DynoTable } from '../router/dynos.js';
import { type RouterHandle, startRouter } from '../router/index.js';
import type { RouterLimits, RouterTimers } from '../router/options.js';
import { DynoManager } from './dyno-manager.js';
import type { Isolation } from './dyno-scope.js';
import { isNpmLauncher } from './dyno-shell.js';
import type { OutputGate } from './line-splitter.js';
import {
  type LogDrain,
  type LogDrainOptions,
  type LogDrainStats,
  startLogDrain,
} from './log-drain.js';
import { checkRunOptions } from './options.js';

export interface RunOptions {
  /** argv (`['node', 'app.js']`) or a shell command line (a Procfile's web: line). */
  readonly command: readonly string[] | string;
  readonly dynos?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly host?: string;
  /** The router's port; 0 (default) picks a free one. */
  readonly port?: number;
  readonly flavor?: RouterFlavor;
  readonly timers?: Partial<RouterTimers>;
  /** The router's connection, backlog and head-buffer limits (H22, H11, 431/503). */
  readonly limits?: Partial<RouterLimits>;
  readonly appHost?: string;
  /** SIGTERM → SIGKILL (30 s). */
  readonly grace?: number;
  /** Time to bind $PORT before R10 (60 s). */
  readonly bootTimeout?: number;
  /** First delay between crash restarts after the immediate one (1 s). */
  readonly restartDelay?: number;
  /** Send SIGTERM a second time this long after the first (0, the default: never). */
  readonly resignal?: number;
  /** Where lines go besides the handle's own collection; null: nowhere. */
  readonly log?: LogSink | null;
  /** Keep every line and record on the handle (tests); off for long CLI runs. */
  readonly collect?: boolean;
  /**
   * How each dyno is contained: a PID namespace (nothing of a dyno survives it, Linux with
   * `unshare`) or a process group (fallback). Default: the best this machine allows.
   */
  readonly isolation?: Isolation;
  /** Pauses app output while the reader of `log` is behind (the CLI's stdout). */
  readonly gate?: OutputGate;
  /** Also send every line to this log drain, as logplex does (`h13 run --drain URL`). */
  readonly drain?: LogDrainOptions;
  /** At `stop()`, time left to deliver what the drain has not received (5 s). */
  readonly drainFlushMs?: number;
}

export interface RunHandle {
  readonly url: string;
  readonly port: number;
  readonly dynos: DynoTable;
  readonly router: RouterHandle;
  /** Every finished request so far (when collecting). */
  readonly records: readonly RouterRecord[];
  /** Every line so far in `heroku logs` form (when collecting). */
  readonly lines: readonly string[];
  /** Resolves once every dyno is up. */
  whenUp(): Promise<void>;
  waitForRecord(match: (r: RouterRecord) => boolean, ms: number): Promise<RouterRecord>;
  /** Resolves with the `nth` (default 1st) line matching `pattern`, already seen or future. */
  waitForLine(pattern: RegExp, ms: number, nth?: number): Promise<string>;
  /** `heroku ps:restart`: resolves when the new dynos are up and the old ones have exited. */
  restart(): Promise<void>;
  /** Stop the dynos (SIGTERM, SIGKILL after grace) and the router; resolves with the exit code. */
  stop(): Promise<number>;
  /** SIGKILL every process of every dyno now (a second Ctrl-C); `stop()` still closes the router. */
  kill(): void;
  /** What the log drain (`drain` option) has delivered, dropped and still holds; null without one. */
  drainStats(): LogDrainStats | null;
}

function waiter<T>(
  list: T[],
  subscribe: Set<(item: T) => void>,
  match: (item: T) => boolean,
  ms: number,
  what: string,
): Promise<T> {
  const found = list.find(match);
  if (found !== undefined) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const listener = (item: T) => {
      if (!match(item)) return;
      clearTimeout(timer);
      subscribe.delete(listener);
      resolve(item);
    };
    const timer = setTimeout(() => {
      subscribe.delete(listener);
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    subscribe.add(listener);
  });
}

/** What a stopping dyno does wrong in the router's eyes: closed (H13, H18) or refused (H21). */
const DROPPED: ReadonlySet<string> = new Set(['H13', 'H18', 'H21']);

/**
 * h13's note after a dyno that dropped requests while stopping has exited: the counts (requests
 * in flight at SIGTERM and requests routed to it after, alike), and the
 * shutdown advice `h13 analyze` and `h13 probe` give (one text, src/analyze/causes.ts).
 */
export function shutdownNote(
  name: string,
  codes: readonly string[],
  command: readonly string[] | string,
): string {
  const counts = new Map<string, number>();
  for (const c of codes) counts.set(c, (counts.get(c) ?? 0) + 1);
  const list = [...counts].map(([c, n]) => `${c} ×${n}`).join(', ');
  return (
    `note: ${codes.length} request(s) to ${name} were not answered while it was stopping ` +
    `(${list}). ${CAUSES['restart-race'].fix}` +
    // npm exits on SIGTERM without waiting for the app (mainExitNote): even an app that drains
    // is cut short under it, so the second fix is named as `h13 analyze` names it.
    (isNpmLauncher(command)
      ? ' Also start the app directly (Procfile: `web: node server.js`, or `exec` in the start ' +
        'script): npm does not wait for it on SIGTERM.'
      : '')
  );
}

export async function startRun(options: RunOptions): Promise<RunHandle> {
  const collect = options.collect ?? true;
  const lines: string[] = [];
  const records: RouterRecord[] = [];
  const lineListeners = new Set<(line: string) => void>();
  const recordListeners = new Set<(r: RouterRecord) => void>();
  checkRunOptions(options as unknown as Readonly<Record<string, unknown>>);
  const drain: LogDrain | null = options.drain === undefined ? null : startLogDrain(options.drain);
  const sink: LogSink = {
    wantsFields:
      options.log === undefined || options.log === null ? false : (options.log.wantsFields ?? true),
    write(entry: LogEntry) {
      options.log?.write(entry);
      drain?.write(entry);
      if (!collect && lineListeners.size === 0) return;
      const line = formatLogLine(entry.micros, entry.source, entry.process, oneLine(entry.message));
      if (collect) lines.push(line);
      for (const l of lineListeners) l(line);
    },
    line(source, processName, message, fields) {
      this.write({
        micros: nowMicros(),
        source,
        process: processName,
        message,
        ...(fields === undefined ? {} : { fields }),
      });
    },
  };
  const dynos = options.dynos ?? 1;
  const droppedWhileStopping = new Map<string, string[]>();
  const manager = new DynoManager({
    command: options.command,
    dynos,
    env: options.env ?? process.env,
    cwd: options.cwd ?? process.cwd(),
    grace: options.grace ?? 30_000,
    bootTimeout: options.bootTimeout ?? 60_000,
    restartDelay: options.restartDelay ?? 1000,
    resignal: options.resignal ?? 0,
    log: (name, message) => sink.line('heroku', name, message),
    appLog: (name, line) => sink.line('app', name, line),
    note: (name, message) => sink.line('h13', name, message),
    onStopped: (name, leftBehind) => {
      const codes = droppedWhileStopping.get(name);
      droppedWhileStopping.delete(name);
      // The main-process note already says why; otherwise give the one shutdown advice.
      if (codes === undefined || leftBehind) return;
      sink.line('h13', name, shutdownNote(name, codes, options.command));
    },
    ...(options.isolation === undefined ? {} : { isolation: options.isolation }),
    ...(options.gate === undefined ? {} : { gate: options.gate }),
  });
  const router = await startRouter({
    dynos: manager.table,
    ...(options.host === undefined ? {} : { host: options.host }),
    port: options.port ?? 0,
    flavor: options.flavor ?? '2',
    ...(options.timers === undefined ? {} : { timers: options.timers }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.appHost === undefined ? {} : { appHost: options.appHost }),
    log: sink,
    onRecord: (r) => {
      if (r.code !== null && r.dyno !== null && DROPPED.has(r.code) && manager.isStopping(r.dyno)) {
        const codes = droppedWhileStopping.get(r.dyno) ?? [];
        codes.push(r.code);
        droppedWhileStopping.set(r.dyno, codes);
      }
      if (collect) records.push(r);
      for (const l of recordListeners) l(r);
    },
  });
  await manager.start();
  let stopped: Promise<number> | null = null;
  return {
    url: router.url,
    port: router.port,
    dynos: manager.table,
    router,
    records,
    lines,
    whenUp: () => manager.whenUp(),
    waitForRecord: (match, ms) =>
      waiter(records, recordListeners, match, ms, 'a matching router record'),
    waitForLine: (pattern, ms, nth = 1) => {
      let seen = 0;
      return waiter(
        lines,
        lineListeners,
        (l) => pattern.test(l) && ++seen >= nth,
        ms,
        `line ${nth} matching ${pattern}`,
      );
    },
    restart: () => manager.restart(),
    kill: () => manager.kill(),
    drainStats: () => drain?.stats() ?? null,
    stop() {
      stopped ??= (async () => {
        await manager.stop();
        await router.close();
        // Last: the dynos' exit lines and h13's notes go to the drain too.
        await drain?.close(options.drainFlushMs ?? 5000);
        return manager.troubled ? 1 : 0;
      })();
      return stopped;
    },
  };
}
