/**
 * One dyno's process: spawned with its own $PORT in its own process group (Heroku signals
 * every process of a dyno, so `npm start` and the node it starts both get SIGTERM), its
 * output split into `app[web.N]` lines, and its boot watched by connecting to $PORT, the way
 * Heroku decides a web dyno is up.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { constants } from 'node:os';
import { accepts } from '../core/ports.js';
import { lineSplitter } from './line-splitter.js';

export interface DynoProcessOptions {
  readonly name: string;
  /** argv to exec, or a shell command line (Procfile). */
  readonly command: readonly string[] | string;
  readonly port: number;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly bootTimeout: number;
  /** A line the app wrote (stdout or stderr). */
  readonly onOutput: (line: string) => void;
}

/** Heroku's `Process exited with status N`: the exit code, or 128 + the signal number. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0));
}

const BOOT_POLL_MS = 20;
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** If h13 itself dies, its dynos must not outlive it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }
  });
}

export class DynoProcess extends EventEmitter<{
  up: [];
  'boot-timeout': [];
  exit: [status: number];
}> {
  readonly options: DynoProcessOptions;
  #child: ChildProcess | null = null;
  #exited = false;
  #bootTimer: NodeJS.Timeout | null = null;
  readonly exitedPromise: Promise<number>;
  #resolveExit!: (status: number) => void;

  constructor(options: DynoProcessOptions) {
    super();
    this.options = options;
    this.exitedPromise = new Promise((resolve) => {
      this.#resolveExit = resolve;
    });
  }

  get commandText(): string {
    const c = this.options.command;
    return typeof c === 'string' ? c : c.join(' ');
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get exited(): boolean {
    return this.#exited;
  }

  start(): void {
    installExitHook();
    const { command, env, cwd, port } = this.options;
    const childEnv = { ...env, PORT: String(port), DYNO: this.options.name };
    const child =
      typeof command === 'string'
        ? spawn('/bin/sh', ['-c', command], {
            env: childEnv,
            cwd,
            detached: true,
            stdio: ['ignore', 'pipe', 'pipe'],
          })
        : spawn(command[0] as string, command.slice(1), {
            env: childEnv,
            cwd,
            detached: true,
            stdio: ['ignore', 'pipe', 'pipe'],
          });
    this.#child = child;
    live.add(child);
    for (const stream of [child.stdout, child.stderr]) {
      const split = lineSplitter(this.options.onOutput);
      stream?.setEncoding('utf8');
      stream?.on('data', (d: string) => split.push(d));
      stream?.on('end', () => split.end());
    }
    child.once('error', (err) => {
      this.options.onOutput(`${this.commandText}: ${err.message}`);
      this.#onExit(127);
    });
    child.once('exit', (code, signal) => this.#onExit(exitStatus(code, signal)));
    this.#bootTimer = setTimeout(() => {
      this.#bootTimer = null;
      if (!this.#exited) this.emit('boot-timeout');
    }, this.options.bootTimeout);
    void this.#watchBoot();
  }

  /** Signal every process of the dyno (its process group). */
  signal(signal: NodeJS.Signals): void {
    const child = this.#child;
    if (child === null || this.#exited || child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      child.kill(signal);
    }
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
    if (this.#child !== null) live.delete(this.#child);
    // Children of the dyno that outlive its main process are part of the dyno: end them too.
    if (this.#child?.pid !== undefined) {
      try {
        process.kill(-this.#child.pid, 'SIGKILL');
      } catch {
        // the group is already gone
      }
    }
    this.emit('exit', status);
    this.#resolveExit(status);
  }
}
