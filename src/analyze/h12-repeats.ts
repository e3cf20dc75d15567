/**
 * H12s close together, read together: when the router keeps timing out on one route (three
 * H12s on `GET /admin/advice` within a minute) while other routes answer, the route itself is
 * slow, even where the app logs nothing about it. H12s spread over many routes say the
 * opposite (a busy or stuck process), so the other routes' H12s are counted too.
 *
 * Worked out when an H12 is decided (its window closed: the H12s before it and in its window
 * are known), and only the outcome is added to its evidence: a few lines of the same route,
 * none when the route is not the one repeating. Offering every close H12 to every other
 * filled their evidence lists on a log with many.
 */

import type { Evidence } from './evidence.js';

/** H12s this far apart (log time) still count as a repeat. */
export const REPEAT_US = 300_000_000;
/** Recent H12s kept to compare with the next ones. */
const KEPT = 64;
/** Same-route lines shown as proof. */
const SHOWN = 4;

interface Seen {
  readonly owner: object;
  readonly key: string;
  readonly evidence: Evidence;
}

export class TimeoutRepeats {
  private readonly recent: Seen[] = [];

  /** A new H12 (`owner` tells it apart) on route `key` (`METHOD /path`) at `t`. */
  add(owner: object, key: string, t: number, line: string, dyno: string): void {
    if (this.recent.length >= KEPT) this.recent.shift();
    this.recent.push({
      owner,
      key,
      evidence: {
        kind: 'timeout-repeat',
        micros: t,
        process: dyno,
        line,
        message: line,
        detail: key,
      },
    });
  }

  /**
   * The other H12s on `key` within REPEAT_US of `t` (at most SHOWN), when there are two or
   * more and no fewer than on all other routes together; else none.
   */
  around(owner: object, key: string, t: number): Evidence[] {
    const same: Evidence[] = [];
    let sameCount = 0;
    let otherCount = 0;
    for (const s of this.recent) {
      if (s.owner === owner || Math.abs(s.evidence.micros - t) > REPEAT_US) continue;
      if (s.key !== key) otherCount++;
      else if (++sameCount <= SHOWN) same.push(s.evidence);
    }
    return sameCount >= 2 && sameCount >= otherCount ? same : [];
  }
}
