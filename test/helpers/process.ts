/**
 * Child processes for tests (the close-with-grace way): start a real process, wait for the
 * ready marker it prints, collect its output, signal it, wait for its exit. All bounded.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { withTimeout } from './wait.js';

export interface Spawned {
  readonly child: ChildProcess;
  /** Everything written so far to stdout and stderr. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout+stderr (already seen or future). */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited(ms?: number): Promise<number | NodeJS.Signals>;
  /** SIGKILL if still running; safe to call twice. */
  kill(): void;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export function spawnProcess(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Spawned {
  const child = spawn(command, [...args], {
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  const notify = () => {
    for (const w of waiters.splice(0)) w();
  };
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    notify();
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    notify();
  });
  const exit = new Promise<number | NodeJS.Signals>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? (signal as NodeJS.Signals));
    });
  });
  exit.finally(notify);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor(pattern, ms = 10_000) {
      return withTimeout(
        new Promise<RegExpMatchArray>((resolve, reject) => {
          const check = () => {
            const m = (out + err).match(pattern);
            if (m !== null) return resolve(m);
            if (child.exitCode !== null || child.signalCode !== null) {
              return reject(
                new Error(
                  `process exited before printing ${pattern}\nstdout: ${out}\nstderr: ${err}`,
                ),
              );
            }
            waiters.push(check);
          };
          check();
        }),
        ms,
        `${pattern} from ${command} ${args.join(' ')}\nstdout so far: ${out.slice(-2000)}\nstderr so far: ${err.slice(-2000)}`,
      );
    },
    exited: (ms = 10_000) => withTimeout(exit, ms, `exit of ${command} ${args.join(' ')}`),
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Start the built CLI (`node build/src/cli/main.js ...`). */
export function spawnNode(
  script: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Spawned {
  return spawnProcess(process.execPath, [script, ...args], options);
}
