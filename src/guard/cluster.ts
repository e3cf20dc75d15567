/**
 * h13/cluster: run `worker` in WEB_CONCURRENCY processes, the way Heroku recommends, without
 * throng's 5 s cut.
 *
 * - Heroku sends SIGTERM to every process of the dyno, so the primary does not forward it:
 *   each worker's guard reports that it started draining; a worker that has not reported
 *   within `forwardAfterMs` (a signal sent to the primary alone, e.g. `kill <pid>` locally) gets
 *   the signal then. Either way each worker receives it once.
 * - The primary never kills a draining worker: it waits for them all (the guard's own
 *   deadlines fit the 30 s window) and exits 0, or 1 if a worker failed to drain.
 * - A worker that dies outside a shutdown is forked again after a backoff that doubles on
 *   quick successive deaths (restartDelayMs up to maxRestartDelayMs), so a crash loop does not spin.
 */

import nodeCluster, { type Worker } from 'node:cluster';
import { H13Error } from '../core/errors.js';
import { EVENT } from '../core/guard-vocabulary.js';
import type { GuardLog } from './options.js';
import { createOutput } from './output.js';

export interface ClusterOptions {
  /** Number of workers; default WEB_CONCURRENCY, else 1. */
  workers?: number;
  /** First restart delay after a worker dies (ms). */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  /** A worker that lived this long resets the backoff (ms). */
  stableAfterMs?: number;
  /** Forward a shutdown signal to workers that did not get it themselves after this (ms). */
  forwardAfterMs?: number;
  log?: GuardLog;
}

export interface ClusterHandle {
  readonly isPrimary: boolean;
}

function positiveInt(value: unknown, field: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    throw new H13Error(
      'H13_ERR_INVALID_OPTION',
      `cluster option ${field}: expected an integer >= ${min}`,
      {
        field,
      },
    );
  return value;
}

export function workersFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env.WEB_CONCURRENCY;
  if (raw === undefined || raw.trim() === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw new H13Error(
      'H13_ERR_INVALID_OPTION',
      `WEB_CONCURRENCY=${JSON.stringify(raw)} is not a worker count`,
      {
        field: 'WEB_CONCURRENCY',
      },
    );
  return n;
}

/** In the primary: fork and supervise. In a worker: run `worker`. */
export function cluster(worker: () => unknown, options: ClusterOptions = {}): ClusterHandle {
  const count = positiveInt(options.workers, 'workers', workersFromEnv(process.env), 1);
  const restartDelayMs = positiveInt(options.restartDelayMs, 'restartDelayMs', 100, 0);
  const maxRestartDelayMs = positiveInt(options.maxRestartDelayMs, 'maxRestartDelayMs', 10_000, 0);
  const stableAfterMs = positiveInt(options.stableAfterMs, 'stableAfterMs', 10_000, 0);
  const forwardAfterMs = positiveInt(options.forwardAfterMs, 'forwardAfterMs', 1000, 0);
  if (nodeCluster.isWorker) {
    void Promise.resolve().then(worker);
    return { isPrimary: false };
  }
  const out = createOutput(options.log ?? 'stderr');
  const live = new Map<Worker, { born: number; draining: boolean }>();
  let delay = restartDelayMs;
  let stopping: NodeJS.Signals | null = null;
  let failed = false;

  const fork = () => {
    const w = nodeCluster.fork();
    live.set(w, { born: performance.now(), draining: false });
    w.on('message', (msg: unknown) => {
      if (
        typeof msg === 'object' &&
        msg !== null &&
        (msg as { h13?: unknown }).h13 === 'draining'
      ) {
        const entry = live.get(w);
        if (entry !== undefined) entry.draining = true;
      }
    });
    out.line(
      'info',
      { event: EVENT.worker_fork, pid: w.process.pid, workers: count },
      'worker forked',
    );
  };

  nodeCluster.on('exit', (w, code, signal) => {
    const entry = live.get(w);
    live.delete(w);
    if (stopping !== null) {
      if (code !== 0) failed = true;
      if (live.size === 0) {
        out.line(
          'info',
          { event: EVENT.cluster_exit, exit_code: failed ? 1 : 0 },
          'all workers exited',
        );
        process.exit(failed ? 1 : 0);
      }
      return;
    }
    const lived = entry === undefined ? 0 : performance.now() - entry.born;
    if (lived >= stableAfterMs) delay = restartDelayMs;
    out.line(
      'warning',
      {
        event: EVENT.worker_exit,
        pid: w.process.pid,
        exit_code: code ?? undefined,
        signal: signal ?? undefined,
        restart_in: delay,
      },
      'worker died; restarting',
    );
    const wait = delay;
    delay = Math.min(maxRestartDelayMs, Math.max(1, delay * 2));
    setTimeout(() => {
      if (stopping === null) fork();
    }, wait);
  });

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping !== null) {
      out.line('info', { event: EVENT.signal_ignored, signal }, 'signal ignored: already stopping');
      return;
    }
    stopping = signal;
    out.line(
      'info',
      { event: EVENT.cluster_shutdown, signal, workers: live.size },
      'cluster shutting down',
    );
    if (live.size === 0) process.exit(0);
    setTimeout(() => {
      for (const [w, entry] of live) {
        if (!entry.draining) w.process.kill(signal);
      }
    }, forwardAfterMs).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  for (let i = 0; i < count; i++) fork();
  return { isPrimary: true };
}
