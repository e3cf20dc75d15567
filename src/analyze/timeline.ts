/**
 * Counts over time in a fixed number of buckets: when the span outgrows them, neighbouring
 * buckets merge and the width doubles, so a log of any length fits in MAX_BUCKETS per series.
 */

import { UNTIMED_US } from './types.js';

export const MAX_BUCKETS = 240;
const FIRST_WIDTH_US = 1_000_000;

export interface Marker {
  readonly micros: number;
  /** release, sigterm, restart, crash, boot-failure, exit, memory. */
  readonly kind: string;
  readonly process: string;
  readonly detail: string;
}

export const MAX_MARKERS = 300;

export class Timeline {
  start = Number.NaN;
  width = FIRST_WIDTH_US;
  /** Router lines of every kind, per bucket. */
  requests: number[] = [];
  /** Errors per code, per bucket. */
  readonly series = new Map<string, number[]>();
  readonly markers: Marker[] = [];
  droppedMarkers = 0;

  private index(micros: number): number {
    if (Number.isNaN(this.start)) this.start = Math.floor(micros / this.width) * this.width;
    if (micros < this.start) this.extendBack(micros);
    let i = Math.floor((micros - this.start) / this.width);
    while (i >= MAX_BUCKETS) {
      this.merge();
      i = Math.floor((micros - this.start) / this.width);
    }
    return i;
  }

  /** A line earlier than the first one seen (lines arrive slightly out of order). */
  private extendBack(micros: number): void {
    for (;;) {
      const need = Math.ceil((this.start - micros) / this.width);
      const used = this.requests.length;
      if (need + Math.max(used, 1) <= MAX_BUCKETS) {
        const pad = new Array<number>(need).fill(0);
        this.requests = [...pad, ...this.requests];
        for (const [k, v] of this.series) this.series.set(k, [...pad, ...v]);
        this.start -= need * this.width;
        return;
      }
      this.merge();
    }
  }

  private merge(): void {
    const fold = (a: number[]): number[] => {
      const out: number[] = [];
      for (let i = 0; i < a.length; i += 2) out.push((a[i] ?? 0) + (a[i + 1] ?? 0));
      return out;
    };
    this.requests = fold(this.requests);
    for (const [k, v] of this.series) this.series.set(k, fold(v));
    this.width *= 2;
  }

  addRequest(micros: number): void {
    if (!(micros >= UNTIMED_US)) return;
    const i = this.index(micros);
    const r = this.requests;
    while (r.length <= i) r.push(0);
    r[i]! += 1;
  }

  addError(micros: number, code: string): void {
    if (!(micros >= UNTIMED_US)) return;
    const i = this.index(micros);
    let s = this.series.get(code);
    if (s === undefined) {
      s = [];
      this.series.set(code, s);
    }
    while (s.length <= i) s.push(0);
    s[i]! += 1;
  }

  addMarker(marker: Marker): void {
    if (!(marker.micros >= UNTIMED_US)) return;
    this.index(marker.micros);
    if (this.markers.length < MAX_MARKERS) this.markers.push(marker);
    else this.droppedMarkers++;
  }

  /** Number of buckets in use. */
  get length(): number {
    let n = this.requests.length;
    for (const s of this.series.values()) n = Math.max(n, s.length);
    if (!Number.isNaN(this.start)) {
      for (const m of this.markers)
        n = Math.max(n, Math.floor((m.micros - this.start) / this.width) + 1);
    }
    return Math.min(n, MAX_BUCKETS);
  }
}
