/**
 * One dyno's processes: the main process (the command, or a Procfile line started the way
 * Heroku starts it, see dyno-shell.ts) with its own $PORT, contained so that nothing of the
 * dyno outlives it or `h13 run` (see dyno-scope.ts), its output split into `app[web.N]`
 * lines, and its boot watched by connecting to $PORT, the way Heroku decides a web dyno is up.
 *
 * When the main process exits, the dyno ends: processes it leaves behind are killed at once.
 * That is what Heroku's dyno manager does (a Docker dyno started as `/bin/sh -c node run.js`
 * shows "Stopping all processes with SIGTERM", "Process exited with status 143" and the app
 * cut off before its 3 s shutdown finished: "Your Heroku app deserves 30 seconds to live",
 * CollegeVine, 2022), and what a PID namespace does when its PID 1 exits. `leftBehind` on the
 * exit event says it happened, so the manager can tell the user.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { accepts } from '../core/ports.js';
import { detectIsolation, type Isolation, namespaceArgv, watchdogScript } from './dyno-scope.js';
import { shellLaunch } from './dyno-shell.js';
import { lineSplitter, type OutputGate } from './line-splitter.js';

export interface DynoProcessOptions {
  readonly name: string;
  /** argv to exec, or a shell command line (Procfile). */
  readonly command: readonly string[] | string;
  readonly port: number;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly bootTimeoutMs: number;
  /** bash for Procfile lines (null: none found, /bin/sh is used). */
  readonly bash: string | null;
  readonly isolation?: Isolation;
  /** A line the app wrote (stdout or stderr). */
  readonly onOutput: (line: string) => void;
  /** Pauses app output while the reader of h13's output is behind. */
  readonly gate?: OutputGate;
}

/** Heroku's `Process exited with status N`: the exit code, or 128 + the signal number. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0));
}

const BOOT_POLL_MS = 20;
/** Outside a namespace, how long the end of a dyno waits for its output pipes to close. */
const PIPES_CLOSE_MS = 500;
const live = new Set<DynoProcess>();
let exitHookInstalled = false;

/** If h13 itself exits, its dynos must not outlive it (a SIGKILL is covered by the pipes). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const dyno of live) dyno.killNow();
  });
}

export class DynoProcess extends EventEmitter<{
  up: [];
  'boot-timeout': [];
  exit: [status: number, leftBehind: boolean];
}> {
  readonly options: DynoProcessOptions;
  readonly isolation: Isolation;
  /** Why this dyno's process tree differs from Heroku's, when it does. */
  readonly shellNote: string | null;
  readonly #main: readonly string[];
  #child: ChildProcess | null = null;
  #control: Writable | null = null;
  #watchdog: ChildProcess | null = null;
  #leftBehind = false;
  #groupEnded = false;
  #exited = false;
  #bootTimer: NodeJS.Timeout | null = null;
  readonly exitedPromise: Promise<number>;
  #resolveExit!: (status: number) => void;

  constructor(options: DynoProcessOptions) {
    super();
    this.options = options;
    this.isolation = options.isolation ?? detectIsolation();
    if (typeof options.command === 'string') {
      const launch = shellLaunch(options.command, options.bash);
      this.#main = launch.argv;
      this.shellNote = launch.note;
    } else {
      this.#main = options.command;
      this.shellNote = null;
    }
    this.exitedPromise = new Promise((resolve) => {
      this.#resolveExit = resolve;
    });
  }

  get commandText(): string {
    const c = this.options.command;
    return typeof c === 'string' ? c : c.join(' ');
  }

  get exited(): boolean {
    return this.#exited;
  }

  start(): void {
    installExitHook();
    const { env, cwd, port } = this.options;
    const childEnv = { ...env, PORT: String(port), DYNO: this.options.name };
    const ns = this.isolation === 'pid-namespace';
    const argv = ns ? namespaceArgv(this.#main) : [...this.#main];
    const child = spawn(argv[0] as string, argv.slice(1), {
      env: childEnv,
      cwd,
      detached: true,
      stdio: ns ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    live.add(this);
    if (ns) {
      this.#control = child.stdin;
      // EPIPE once the init is gone is expected: the dyno is over.
      child.stdin?.on('error', () => {});
      const report = child.stdio[3] as Readable | null;
      report?.setEncoding('utf8');
      report?.on('data', (d: string) => {
        if (d.includes('left')) this.#leftBehind = true;
      });
      report?.on('error', () => {});
    } else if (child.pid !== undefined) {
      this.#startWatchdog(child.pid);
    }
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      const split = lineSplitter(this.options.onOutput);
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => split.push(d));
      stream.on('end', () => split.end());
      this.options.gate?.add(stream);
    }
    child.once('error', (err) => {
      this.options.onOutput(`${this.commandText}: ${err.message}`);
      this.#onExit(127);
    });
    // In a namespace every process is gone when the init exits, so wait for the pipes too
    // (the app's last lines and the init's report come first); outside one, a child that
    // escaped the group may hold them open forever.
    if (ns) child.once('close', (code, signal) => this.#onExit(exitStatus(code, signal)));
    else {
      child.once('exit', (code, signal) => {
        this.#endGroup();
        // The group is killed: its pipes close as soon as the kernel has reaped it. Wait for
        // that (bounded: an escaped child may hold them), so the app's last lines and the
        // router's view of the closed connections come before the exit line, as in a namespace.
        const status = exitStatus(code, signal);
        const timer = setTimeout(() => this.#onExit(status), PIPES_CLOSE_MS);
        child.once('close', () => {
          clearTimeout(timer);
          this.#onExit(status);
        });
      });
    }
    this.#bootTimer = setTimeout(() => {
      this.#bootTimer = null;
      if (!this.#exited) this.emit('boot-timeout');
    }, this.options.bootTimeoutMs);
    void this.#watchBoot();
  }

  /** Signal every process of the dyno. */
  signal(signal: NodeJS.Signals): void {
    const child = this.#child;
    if (child === null || this.#exited || child.pid === undefined) return;
    if (this.#control !== null) {
      this.#control.write(`${signal.replace(/^SIG/, '')}\n`);
      return;
    }
    try {
      process.kill(-child.pid, signal);
    } catch {
      child.kill(signal);
    }
  }

  /** SIGKILL everything of the dyno now, synchronously (h13 is exiting). */
  killNow(): void {
    const pid = this.#child?.pid;
    if (pid === undefined || this.#exited) return;
    try {
      // The namespace's unshare or the main process leads the group: in a namespace, killing
      // unshare kills its init (--kill-child), and with it the whole namespace.
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  #startWatchdog(pgid: number): void {
    const watchdog = spawn('/bin/sh', ['-c', watchdogScript(pgid)], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    watchdog.stdin?.on('error', () => {});
    watchdog.once('error', () => {});
    watchdog.unref();
    (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    this.#watchdog = watchdog;
  }

  /**
   * Outside a namespace, once the main process is gone: whatever still answers in its group
   * was left behind. End it, as the dyno ends with its main process, and retire the watchdog.
   */
  #endGroup(): void {
    const pid = this.#child?.pid;
    if (this.#control !== null || pid === undefined || this.#groupEnded) return;
    this.#groupEnded = true;
    try {
      process.kill(-pid, 0);
      this.#leftBehind = true;
      process.kill(-pid, 'SIGKILL');
    } catch {
      // the group is already gone
    }
    this.#watchdog?.stdin?.end('done\n');
  }

  async #watchBoot(): Promise<void> {
    while (!this.#exited && this.#bootTimer !== null) {
      if (await accepts('127.0.0.1', this.options.port, 500)) {
        if (this.#exited || this.#bootTimer === null) return;
        this.#clearBoot();
        this.emit('up');
        return;
      }
      await new Promise((r) => setTimeout(r, BOOT_POLL_MS));
    }
  }

  #clearBoot(): void {
    if (this.#bootTimer !== null) clearTimeout(this.#bootTimer);
    this.#bootTimer = null;
  }

  #onExit(status: number): void {
    if (this.#exited) return;
    this.#exited = true;
    this.#clearBoot();
    live.delete(this);
    this.#endGroup();
    this.#control?.end();
    this.emit('exit', status, this.#leftBehind);
    this.#resolveExit(status);
  }
}
