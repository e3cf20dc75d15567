/**
 * Steady traffic for the shutdown and crash checks: a few workers send requests back to back,
 * half on fresh connections (Connection: close, like the legacy router) and half reusing
 * keep-alive connections (like Router 2.0). Every request is counted by how it ended: answered,
 * refused (fine: the router tries another dyno), or dropped after being accepted (H13/H18).
 */

import type { Ending } from '../http/raw-exchange.js';
import { ProbeConnection } from './http-conn.js';
import { type ProbeTarget, plainRequest } from './target.js';

export interface TrafficCounts {
  answered: number;
  refused: number;
  silent: number;
  reset: number;
  truncated: number;
  /** Sent and still unanswered when the traffic stopped. */
  open: number;
}

export interface Traffic {
  readonly counts: TrafficCounts;
  /** Requests written and not yet settled. */
  inFlight(): number;
  /** Resolves once `n` requests were answered (bounded by the caller). */
  answered(n: number): Promise<void>;
  /** Stop sending; resolves when every request in flight has settled. */
  stop(): Promise<TrafficCounts>;
}

export interface TrafficOptions {
  readonly workers: number;
  readonly timeoutMs: number;
}

export function dropped(c: TrafficCounts): number {
  return c.silent + c.reset + c.truncated + c.open;
}

export function startTraffic(target: ProbeTarget, options: TrafficOptions): Traffic {
  const counts: TrafficCounts = {
    answered: 0,
    refused: 0,
    silent: 0,
    reset: 0,
    truncated: 0,
    open: 0,
  };
  let stopping = false;
  let inFlight = 0;
  const answerWaiters: Array<{ n: number; resolve: () => void }> = [];
  const record = (ending: Ending) => {
    counts[ending === 'answered' ? 'answered' : ending]++;
    if (ending === 'answered') {
      for (let i = answerWaiters.length - 1; i >= 0; i--) {
        const w = answerWaiters[i];
        if (w !== undefined && counts.answered >= w.n) {
          answerWaiters.splice(i, 1);
          w.resolve();
        }
      }
    }
  };

  const worker = async (reuse: boolean) => {
    let conn: ProbeConnection | null = null;
    while (!stopping) {
      if (conn === null || !conn.reusable) {
        conn?.destroy();
        const opened = await ProbeConnection.open(target, options.timeoutMs);
        if (opened === 'refused') {
          record('refused');
          conn = null;
          // Paced retry while nothing listens (between the old process and none at all).
          await new Promise((resolve) => setTimeout(resolve, 20));
          continue;
        }
        conn = opened;
      }
      inFlight++;
      const outcome = await conn.request(plainRequest(target, !reuse), 'GET', options.timeoutMs);
      inFlight--;
      record(outcome.ending);
      if (!reuse || outcome.ending !== 'answered') {
        conn.destroy();
        conn = null;
      }
    }
    conn?.destroy();
  };

  const workers = Array.from({ length: Math.max(1, options.workers) }, (_, i) =>
    worker(i % 2 === 0),
  );
  return {
    counts,
    inFlight: () => inFlight,
    answered: (n) =>
      counts.answered >= n
        ? Promise.resolve()
        : new Promise<void>((resolve) => answerWaiters.push({ n, resolve })),
    stop: async () => {
      stopping = true;
      await Promise.all(workers);
      return counts;
    },
  };
}
