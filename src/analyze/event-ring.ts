/**
 * The dyno manager's events, releases and crash-time stack snapshots, oldest first, in a
 * fixed ring. A router error takes the releases and its own dyno's events: each event is
 * chained to the previous one of its process (releases to the previous release), so an
 * error walks its dyno's chain and the release chain instead of all 512 events, most of
 * which belong to another dyno (that scan was about a tenth of a run on a 1M-line log).
 *
 * Event number `seq` (0, 1, 2, … in push order) lives in slot `seq % capacity`; it is still
 * held while `seq >= total - count`.
 */

import type { Evidence } from './evidence.js';

export class EventRing {
  readonly micros: Float64Array;
  private readonly items: Array<Evidence | undefined>;
  /**
   * The previous event of the same chain (its process's, or the releases'), or -1. A plain
   * array of small integers: V8 keeps them as integers, and `seq % capacity` stays an
   * integer operation (on a Float64Array it is a float remainder, several times slower).
   */
  private readonly previous: number[];
  private readonly lastOfProcess = new Map<string, number>();
  private lastRelease = -1;
  private total = 0;
  count = 0;
  /** Scratch for forDyno, reused. */
  private readonly own: number[] = [];
  private readonly releases: number[] = [];

  constructor(readonly capacity: number) {
    this.micros = new Float64Array(capacity);
    this.items = new Array<Evidence | undefined>(capacity).fill(undefined);
    this.previous = new Array<number>(capacity).fill(-1);
  }

  /** Adds an event, dropping the oldest when full. */
  push(e: Evidence): void {
    const seq = this.total++;
    const i = seq % this.capacity;
    if (this.count < this.capacity) this.count++;
    this.items[i] = e;
    this.micros[i] = e.micros;
    if (e.kind === 'release') {
      this.previous[i] = this.lastRelease;
      this.lastRelease = seq;
    } else {
      this.previous[i] = this.lastOfProcess.get(e.process) ?? -1;
      this.lastOfProcess.set(e.process, seq);
      if (this.lastOfProcess.size > 2 * this.capacity) this.forgetGone();
    }
  }

  at(i: number): Evidence {
    return this.items[i] as Evidence;
  }

  /**
   * Ring indexes of every event back to the first older than `from`, oldest first, written
   * to `out[0, n)`; returns n. Events come in log order give or take the reorder slack, which
   * the caller subtracts from `from`. Scratch arrays here and below are never truncated
   * (`length = 0` would drop their storage, and every call would grow them again).
   */
  recent(from: number, out: number[]): number {
    const first = this.total - this.count;
    let oldest = this.total;
    while (oldest > first && (this.micros[(oldest - 1) % this.capacity] as number) >= from)
      oldest--;
    let n = 0;
    for (let s = oldest; s < this.total; s++) out[n++] = s % this.capacity;
    return n;
  }

  /**
   * Ring indexes of the releases back to `releasesFrom` and of `process`'s other events back
   * to `ownFrom`, oldest first: the same events, in the same order, as a walk over all of
   * them keeping those (each walk stops at its first event older than its bound, see recent).
   * Written to `out[0, n)`; returns n.
   */
  forDyno(process: string, out: number[], ownFrom: number, releasesFrom: number): number {
    const first = this.total - this.count;
    const own = this.own;
    const releases = this.releases;
    let a = this.chain(this.lastOfProcess.get(process) ?? -1, first, ownFrom, own) - 1;
    let b = this.chain(this.lastRelease, first, releasesFrom, releases) - 1;
    // Both chains are newest first: merge them from their ends.
    let n = 0;
    while (a >= 0 || b >= 0) {
      const sa = a >= 0 ? (own[a] as number) : Number.POSITIVE_INFINITY;
      const sb = b >= 0 ? (releases[b] as number) : Number.POSITIVE_INFINITY;
      if (sa < sb) {
        out[n++] = sa % this.capacity;
        a--;
      } else {
        out[n++] = sb % this.capacity;
        b--;
      }
    }
    return n;
  }

  /**
   * The releases held back to the first older than `from`, oldest first (see recent for
   * `from`). A new array: it becomes part of a decided error's evidence.
   */
  releasesSince(from: number): Evidence[] {
    const n = this.chain(this.lastRelease, this.total - this.count, from, this.releases);
    const out: Evidence[] = [];
    for (let k = n - 1; k >= 0; k--)
      out.push(this.items[(this.releases[k] as number) % this.capacity] as Evidence);
    return out;
  }

  /** The chain from `seq` back to its first event older than `from`, newest first; its length. */
  private chain(seq: number, first: number, from: number, out: number[]): number {
    let n = 0;
    let s = seq;
    while (s >= first) {
      const i = s % this.capacity;
      if ((this.micros[i] as number) < from) break;
      out[n++] = s;
      s = this.previous[i] as number;
    }
    return n;
  }

  /** Processes whose last event has left the ring: their chains are empty anyway. */
  private forgetGone(): void {
    const first = this.total - this.count;
    for (const [process, seq] of this.lastOfProcess)
      if (seq < first) this.lastOfProcess.delete(process);
  }
}
