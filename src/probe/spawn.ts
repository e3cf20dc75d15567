/**
 * Start the app under test the way a dyno does: PORT set to a free port, wait until the port
 * accepts connections. The probe talks only to that port on 127.0.0.1.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../core/ports.js';
import { canConnect } from './target.js';

export interface AppExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface SpawnedApp {
  readonly child: ChildProcess;
  readonly port: number;
  readonly exited: Promise<AppExit>;
  running(): boolean;
  /** The last lines the app wrote to stderr (crash stacks). */
  stderrTail(lines?: number): string[];
  signal(name: NodeJS.Signals): void;
}

const TAIL_BYTES = 16 * 1024;

/**
 * Spawn `command` with PORT=<free port>; resolves once the port accepts a connection, or with
 * an error text when the app exits first or the boot wait passes.
 */
export async function startApp(
  command: readonly string[],
  bootWaitMs: number,
): Promise<SpawnedApp | string> {
  const [file, ...args] = command;
  if (file === undefined) return 'no command to start';
  const port = await freePort();
  const child = spawn(file, args, {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-TAIL_BYTES);
  });
  let running = true;
  const exited = new Promise<AppExit>((resolve) => {
    child.once('error', () => {
      running = false;
      resolve({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
  });
  const app: SpawnedApp = {
    child,
    port,
    exited,
    running: () => running,
    stderrTail: (lines = 8) => stderr.trimEnd().split('\n').slice(-lines),
    signal: (name) => {
      if (running) child.kill(name);
    },
  };
  const target = { host: '127.0.0.1', port, hostHeader: `127.0.0.1:${port}`, path: '/' };
  const deadline = performance.now() + bootWaitMs;
  while (running && performance.now() < deadline) {
    if (await canConnect(target, 1000)) return app;
    // Paced polling: the app gives no other signal that it listens.
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const why = running
    ? `the app did not accept connections on port ${port} within ${bootWaitMs} ms`
    : `the app exited before accepting connections on port ${port}`;
  app.signal('SIGKILL');
  await exited;
  const tail = app.stderrTail(5).join('\n');
  return tail === '' ? why : `${why}; its last stderr lines:\n${tail}`;
}
