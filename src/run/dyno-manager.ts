/**
 * Heroku's dyno manager, locally: runs web.1..web.N, each with its own $PORT, keeps the
 * router's DynoTable current, restarts crashed dynos (at once, then with a growing delay),
 * restarts the formation like `heroku ps:restart` or a deploy (new dynos start while the old
 * ones get SIGTERM, SIGKILL after the grace period), and logs what Heroku logs as
 * `heroku[web.N]` lines.
 *
 * Choices where Heroku's behaviour is not documented precisely:
 * - restarts of a crashed dyno wait 0, then restartDelay, 2×, 4×... capped at 20 minutes; the
 *   count resets once a dyno has stayed up for a minute;
 * - on a restart the new dyno keeps the old dyno's name (web.1), so both are briefly in the
 *   table: the old one `stopping`, the new one `starting` then `up`.
 */

import { freePort } from '../core/ports.js';
import { type DynoState, DynoTable } from '../router/dynos.js';
import { DynoProcess } from './dyno-process.js';
import type { Isolation } from './dyno-scope.js';
import { findBash, isNpmLauncher, mainProgram } from './dyno-shell.js';
import type { OutputGate } from './line-splitter.js';

export interface DynoManagerOptions {
  readonly command: readonly string[] | string;
  readonly dynos: number;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** SIGTERM → SIGKILL (30 s). */
  readonly grace: number;
  /** Time to bind $PORT before R10 (60 s). */
  readonly bootTimeout: number;
  /** First delay between crash restarts after the immediate one (1 s). */
  readonly restartDelay: number;
  /**
   * Send SIGTERM again this long after the first (0: never). Heroku documents that a process
   * may receive more than one SIGTERM; a shutdown that exits on the second one drops requests.
   */
  readonly resignal?: number;
  /** `heroku[web.N]` lines: (dyno name, message). */
  readonly log: (processName: string, message: string) => void;
  /** `app[web.N]` lines. */
  readonly appLog: (processName: string, line: string) => void;
  /** h13's own notes about a dyno (`h13[web.N]` lines), never written as Heroku's. */
  readonly note: (processName: string, message: string) => void;
  /** How each dyno is contained (default: the best this machine allows). */
  readonly isolation?: Isolation;
  /** Pauses app output while the reader of h13's output is behind. */
  readonly gate?: OutputGate;
  /** A dyno told to stop has exited (`leftBehind`: its main process left others running). */
  readonly onStopped?: (processName: string, leftBehind: boolean) => void;
}

/**
 * The note for a dyno whose main process exited while others of it still ran: they were
 * killed with it, as on Heroku. Named for npm, the common case (`web: npm start`, and the
 * Node buildpack's default): npm runs the script through `sh -c`, which forks node and exits
 * on SIGTERM without waiting for it, and npm exits with its shell (npm/npm#4603,
 * npm/rfcs#829). With `exec` in the script, node replaces that shell and npm waits for it.
 */
export function mainExitNote(command: readonly string[] | string, status: number): string {
  const program = mainProgram(command);
  const npm = isNpmLauncher(command);
  const who = npm ? 'npm' : `\`${program}\``;
  return (
    `note: the dyno's main process (${who}) exited (status ${status}) while the app's own ` +
    'processes were still running, so they were killed with it, as Heroku ends a dyno when its ' +
    'main process exits; requests they were still serving end as H13. ' +
    (npm
      ? "npm's script shell exits on SIGTERM without waiting for the app, and npm with it. " +
        'Fix: start the app directly ' +
        '(Procfile: `web: node server.js`), or put `exec` in the start script ' +
        '(`"start": "exec node server.js"`).'
      : 'Fix: make the app the main process (Procfile: `web: node server.js`, or `exec` ' +
        'before the last command of a script).')
  );
}

/** `30 seconds`, `0.2 seconds`: how Heroku's R10/R12 messages state their windows. */
const secondsText = (ms: number) => `${ms / 1000} seconds`;

const MAX_RESTART_DELAY = 20 * 60_000;
const STABLE_AFTER = 60_000;

interface Instance {
  readonly name: string;
  readonly port: number;
  readonly proc: DynoProcess;
  state: DynoState;
  killTimer: NodeJS.Timeout | null;
  upSince: number | null;
}

export class DynoManager {
  readonly table = new DynoTable();
  readonly #options: DynoManagerOptions;
  readonly #instances = new Set<Instance>();
  readonly #crashes = new Map<string, number>();
  readonly #restartTimers = new Set<NodeJS.Timeout>();
  #stopping = false;
  readonly #bash: string | null;
  /** Anything that makes the run end non-zero: a crash, R10, R12. */
  troubled = false;

  constructor(options: DynoManagerOptions) {
    this.#options = options;
    this.#bash = typeof options.command === 'string' ? findBash(options.env) : null;
  }

  get names(): string[] {
    return Array.from({ length: this.#options.dynos }, (_, i) => `web.${i + 1}`);
  }

  /** Start the formation; resolves when every dyno was spawned (not when up). */
  async start(): Promise<void> {
    await Promise.all(this.names.map((name) => this.#launch(name)));
  }

  /** Resolves once every named dyno has an instance that is up (bounded by the caller). */
  whenUp(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        const up = new Set([...this.#instances].filter((i) => i.state === 'up').map((i) => i.name));
        if (this.names.every((n) => up.has(n))) {
          this.table.off('change', check);
          resolve();
        }
      };
      this.table.on('change', check);
      check();
    });
  }

  /** Like `heroku ps:restart`: new dynos start while the old ones are signalled. */
  async restart(): Promise<void> {
    if (this.#stopping) return;
    const old = [...this.#instances].filter((i) => i.state !== 'stopping');
    for (const i of old) this.#options.log(i.name, 'Restarting');
    // Heroku starts the new dynos as soon as the old ones are signalled.
    const exits = old.map((i) => this.#terminate(i, 'starting'));
    const fresh = await Promise.all(this.names.map((name) => this.#launch(name)));
    await Promise.all(exits);
    // Done when every new dyno is past booting (up, crashed or gone), so a restart asked for
    // meanwhile restarts booted dynos, as the handle promises.
    await Promise.all(fresh.map((inst) => (inst === null ? null : this.#booted(inst))));
  }

  #booted(inst: Instance): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (inst.state === 'starting' && !inst.proc.exited) return;
        this.table.off('change', check);
        inst.proc.off('exit', check);
        resolve();
      };
      this.table.on('change', check);
      inst.proc.on('exit', check);
      check();
    });
  }

  /** SIGTERM everything, SIGKILL after the grace period; resolves when all have exited. */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const t of this.#restartTimers) clearTimeout(t);
    this.#restartTimers.clear();
    await Promise.all([...this.#instances].map((i) => this.#terminate(i, 'down')));
  }

  /** Whether a dyno of this name is stopping (told to stop, not yet exited). */
  isStopping(name: string): boolean {
    for (const i of this.#instances) if (i.name === name && i.state === 'stopping') return true;
    return false;
  }

  /** SIGKILL every process of every dyno now, synchronously (h13 is about to exit). */
  kill(): void {
    this.#stopping = true;
    for (const t of this.#restartTimers) clearTimeout(t);
    for (const i of this.#instances) i.proc.killNow();
  }

  /** Start one dyno; a failure to even spawn is logged as Heroku logs a boot failure. */
  async #launch(name: string): Promise<Instance | null> {
    let port: number;
    try {
      port = await freePort();
    } catch (err) {
      this.troubled = true;
      this.#options.log(name, `Error starting process: ${(err as Error).message}`);
      return null;
    }
    if (this.#stopping) return null;
    const proc = new DynoProcess({
      name,
      command: this.#options.command,
      port,
      env: this.#options.env,
      cwd: this.#options.cwd,
      bootTimeoutMs: this.#options.bootTimeout,
      bash: this.#bash,
      ...(this.#options.isolation === undefined ? {} : { isolation: this.#options.isolation }),
      ...(this.#options.gate === undefined ? {} : { gate: this.#options.gate }),
      onOutput: (line) => this.#options.appLog(name, line),
    });
    const inst: Instance = {
      name,
      port,
      proc,
      state: 'starting',
      killTimer: null,
      upSince: null,
    };
    this.#instances.add(inst);
    this.table.set({ name, host: '127.0.0.1', port, state: 'starting' });
    this.#options.log(name, `Starting process with command \`${proc.commandText}\``);
    if (proc.shellNote !== null) this.#options.note(name, `note: ${proc.shellNote}`);
    proc.on('up', () => {
      if (inst.state !== 'starting') return;
      this.#setState(inst, 'up');
      inst.upSince = performance.now();
    });
    proc.on('boot-timeout', () => {
      if (inst.state !== 'starting') return;
      this.troubled = true;
      const seconds = secondsText(this.#options.bootTimeout);
      this.#options.log(
        name,
        `Error R10 (Boot timeout) -> Web process failed to bind to $PORT within ${seconds} of launch`,
      );
      this.#options.log(name, 'Stopping process with SIGKILL');
      proc.signal('SIGKILL');
    });
    proc.on('exit', (status, leftBehind) => {
      const stopping = inst.state === 'stopping';
      this.#onExit(inst, status);
      if (stopping) this.#options.onStopped?.(name, leftBehind);
      if (leftBehind) this.#options.note(name, mainExitNote(this.#options.command, status));
    });
    proc.start();
    return inst;
  }

  #setState(inst: Instance, state: DynoState): void {
    if (inst.state === state) return;
    this.#options.log(inst.name, `State changed from ${inst.state} to ${state}`);
    inst.state = state;
    this.table.setState(inst.name, inst.port, state);
  }

  /**
   * SIGTERM, then SIGKILL after the grace period. Heroku's order: the state change first
   * (`up to down` on a stop, `up to starting` on a restart), then `Stopping all processes`.
   */
  #terminate(inst: Instance, next: 'down' | 'starting'): Promise<void> {
    if (inst.proc.exited) {
      if (inst.state === 'crashed') this.#setState(inst, 'down');
      this.#forget(inst);
      return Promise.resolve();
    }
    if (inst.state !== 'stopping') {
      this.#options.log(inst.name, `State changed from ${inst.state} to ${next}`);
      inst.state = 'stopping';
      this.table.setState(inst.name, inst.port, 'stopping');
      this.#options.log(inst.name, 'Stopping all processes with SIGTERM');
      inst.proc.signal('SIGTERM');
      const resignal = this.#options.resignal ?? 0;
      if (resignal > 0) {
        setTimeout(() => {
          if (inst.proc.exited) return;
          this.#options.log(inst.name, 'Stopping all processes with SIGTERM');
          inst.proc.signal('SIGTERM');
        }, resignal).unref();
      }
      inst.killTimer = setTimeout(() => {
        this.troubled = true;
        const seconds = secondsText(this.#options.grace);
        this.#options.log(
          inst.name,
          `Error R12 (Exit timeout) -> At least one process failed to exit within ${seconds} of SIGTERM`,
        );
        this.#options.log(inst.name, 'Stopping remaining processes with SIGKILL');
        inst.proc.signal('SIGKILL');
      }, this.#options.grace);
    }
    return inst.proc.exitedPromise.then(() => undefined);
  }

  #onExit(inst: Instance, status: number): void {
    if (inst.killTimer !== null) clearTimeout(inst.killTimer);
    this.#options.log(inst.name, `Process exited with status ${status}`);
    if (inst.state === 'stopping') {
      this.#forget(inst);
      return;
    }
    this.troubled = true;
    this.#setState(inst, 'crashed');
    if (this.#stopping) return;
    const stable = inst.upSince !== null && performance.now() - inst.upSince > STABLE_AFTER;
    const crashes = stable ? 0 : (this.#crashes.get(inst.name) ?? 0);
    this.#crashes.set(inst.name, crashes + 1);
    const delay =
      crashes === 0
        ? 0
        : Math.min(this.#options.restartDelay * 2 ** (crashes - 1), MAX_RESTART_DELAY);
    const timer = setTimeout(() => {
      this.#restartTimers.delete(timer);
      if (this.#stopping || inst.state !== 'crashed') return;
      // The crashed entry stays until its replacement is in the table, so the router never
      // sees an empty formation (H14) in between.
      this.#setState(inst, 'starting');
      void this.#launch(inst.name).then(() => this.#forget(inst));
    }, delay);
    this.#restartTimers.add(timer);
  }

  #forget(inst: Instance): void {
    this.#instances.delete(inst);
    this.table.remove(inst.name, inst.port);
  }
}
