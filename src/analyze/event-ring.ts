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

  /** The ring index of the k-th oldest event. */
  index(k: number): number {
    return (this.total - this.count + k) % this.capacity;
  }

  at(i: number): Evidence {
    return this.items[i] as Evidence;
  }

  /**
   * Ring indexes of the releases and of `process`'s other events, oldest first: the same
   * events, in the same order, as a walk over all of them keeping those.
   */
  forDyno(process: string, out: number[]): void {
    out.length = 0;
    const first = this.total - this.count;
    const own = this.chain(this.lastOfProcess.get(process) ?? -1, first, this.own);
    const releases = this.chain(this.lastRelease, first, this.releases);
    // Both chains are newest first: merge them from their ends.
    let a = own.length - 1;
    let b = releases.length - 1;
    while (a >= 0 || b >= 0) {
      const sa = a >= 0 ? (own[a] as number) : Number.POSITIVE_INFINITY;
      const sb = b >= 0 ? (releases[b] as number) : Number.POSITIVE_INFINITY;
      if (sa < sb) {
        out.push(sa % this.capacity);
        a--;
      } else {
        out.push(sb % this.capacity);
        b--;
      }
    }
  }

  private chain(seq: number, first: number, out: number[]): number[] {
    out.length = 0;
    let s = seq;
    while (s >= first) {
      out.push(s);
      s = this.previous[s % this.capacity] as number;
    }
    return out;
  }

  /** Processes whose last event has left the ring: their chains are empty anyway. */
  private forgetGone(): void {
    const first = this.total - this.count;
    for (const [process, seq] of this.lastOfProcess)
      if (seq < first) this.lastOfProcess.delete(process);
  }
}
