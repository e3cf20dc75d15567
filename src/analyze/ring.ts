/**
 * A dyno's recent app lines, in a fixed-size ring: what a router error looks back at.
 * Each line's evidence is computed at most once, the first time an error asks, and shared
 * by every error that looks at it.
 */

import type { Evidence } from './evidence.js';

export class LineRing {
  readonly micros: Float64Array;
  readonly raws: string[];
  /** Where the message starts inside the raw line. */
  readonly offsets: Int32Array;
  /** undefined: not looked at yet; null: not evidence. */
  readonly evidence: Array<Evidence | null | undefined>;
  private next = 0;
  size = 0;

  constructor(readonly capacity: number) {
    this.micros = new Float64Array(capacity);
    this.raws = new Array<string>(capacity).fill('');
    this.offsets = new Int32Array(capacity);
    this.evidence = new Array<Evidence | null | undefined>(capacity).fill(undefined);
  }

  /** Returns the slot written. */
  push(micros: number, raw: string, offset: number): number {
    const slot = this.next;
    this.micros[slot] = micros;
    this.raws[slot] = raw;
    this.offsets[slot] = offset;
    this.evidence[slot] = undefined;
    this.next = slot + 1 === this.capacity ? 0 : slot + 1;
    if (this.size < this.capacity) this.size++;
    return slot;
  }

  message(slot: number): string {
    return (this.raws[slot] as string).slice(this.offsets[slot] as number);
  }

  /**
   * Slots with a time in [from, to], newest first. Lines may be slightly out of order, so the
   * walk stops only after `slack` microseconds of lines older than `from`.
   */
  slotsBetween(from: number, to: number, slack: number): number[] {
    const out: number[] = [];
    let slot = this.next;
    for (let k = 0; k < this.size; k++) {
      slot = slot === 0 ? this.capacity - 1 : slot - 1;
      const t = this.micros[slot] as number;
      if (t < from - slack) break;
      if (t >= from && t <= to) out.push(slot);
    }
    return out;
  }

  /** Bytes held by the fixed arrays (the strings are bounded by the line cap). */
  get fixedBytes(): number {
    return this.capacity * (8 + 4 + 8 + 8);
  }
}
