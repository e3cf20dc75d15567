/**
 * The dyno manager's events, releases and crash-time stack snapshots, oldest first, in a
 * fixed ring. Every router error scans all of them for the ones in its window, so their
 * times sit in a typed array: the scan reads 8 bytes per event instead of chasing each
 * event object (a few percent of the whole run on a 1M-line log: all 512 events often lie in
 * an error's 215 s look-back, and most belong to another dyno).
 */

import type { Evidence } from './evidence.js';

export class EventRing {
  readonly micros: Float64Array;
  /** The event's process, and 1 for a release (which concerns every dyno). */
  readonly processes: string[];
  readonly releases: Uint8Array;
  private readonly items: Array<Evidence | undefined>;
  private start = 0;
  count = 0;

  constructor(readonly capacity: number) {
    this.micros = new Float64Array(capacity);
    this.processes = new Array<string>(capacity).fill('');
    this.releases = new Uint8Array(capacity);
    this.items = new Array<Evidence | undefined>(capacity).fill(undefined);
  }

  /** Adds an event, dropping the oldest when full. */
  push(e: Evidence): void {
    let i: number;
    if (this.count === this.capacity) {
      i = this.start;
      this.start = this.start + 1 === this.capacity ? 0 : this.start + 1;
    } else {
      i = (this.start + this.count) % this.capacity;
      this.count++;
    }
    this.items[i] = e;
    this.micros[i] = e.micros;
    this.processes[i] = e.process;
    this.releases[i] = e.kind === 'release' ? 1 : 0;
  }

  /** The ring index of the k-th oldest event. */
  index(k: number): number {
    const i = this.start + k;
    return i >= this.capacity ? i - this.capacity : i;
  }

  at(i: number): Evidence {
    return this.items[i] as Evidence;
  }
}
