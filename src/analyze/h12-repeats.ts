/**
 * H12s close together, each shown to the others as evidence: when the router keeps timing
 * out on one route (three H12s on `GET /admin/advice` within a minute) while other routes
 * answer, the route itself is slow, even where the app logs nothing about it. H12s spread
 * over many routes say the opposite (a busy or stuck process), so the other routes' H12s
 * are shown too and the rule (diagnose.ts) weighs both.
 */

import type { Evidence } from './evidence.js';
import type { Pending } from './pending-errors.js';

/** H12s this far apart (log time) still count as a repeat. */
export const REPEAT_US = 300_000_000;
/** Recent H12s kept to compare with the next ones. */
const KEPT = 64;

interface Seen {
  readonly p: Pending;
  readonly micros: number;
  readonly evidence: Evidence;
}

export class TimeoutRepeats {
  private readonly recent: Seen[] = [];

  constructor(
    /** Adds evidence to an error (ignored once it is decided). */
    private readonly offer: (p: Pending, e: Evidence) => void,
  ) {}

  /** A new H12 `p` on route `key` (`METHOD /path`) at `t`: it and the recent ones meet. */
  open(p: Pending, key: string, t: number, line: string, dyno: string): void {
    const e: Evidence = {
      kind: 'timeout-repeat',
      micros: t,
      process: dyno,
      line,
      message: line,
      detail: key,
    };
    for (const s of this.recent) {
      if (Math.abs(s.micros - t) > REPEAT_US) continue;
      this.offer(p, s.evidence);
      this.offer(s.p, e);
    }
    if (this.recent.length >= KEPT) this.recent.shift();
    this.recent.push({ p, micros: t, evidence: e });
  }
}
