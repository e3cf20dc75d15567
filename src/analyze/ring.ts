/**
 * A dyno's recent app lines, in a fixed-size ring: what a router error looks back at.
 * Each line's evidence is computed at most once, the first time an error asks, and shared
 * by every error that looks at it.
 */

import type { AccessLine } from './access-line.js';
import type { Evidence } from './evidence.js';
import type { Pending } from './pending-errors.js';

/**
 * An id that cannot start inside a plain head `TIMESTAMP app[PROCESS]: ` unless it lies
 * within PROCESS: it has no space, `[`, `]` or `:` (so it cannot run across the head's
 * separators) and a character no timestamp has (so it is not a piece of the timestamp).
 * `app` is shorter than any id looked for (8 characters or more).
 */
export function plainId(id: string): boolean {
  return !/[ [\]:]/.test(id) && /[^0-9TtZz.+-]/.test(id);
}

/**
 * Whether `raw` contains `id` (`raw.includes(id)`). V8 searches a message several times
 * faster than a whole line whose timestamp is full of the id's first characters, so for a
 * plain head (see LineRing.plainHeads) only the message is searched, plus the process name:
 * an id that is `plain` (see plainId) can sit nowhere else in such a head. A function of
 * the line's parts so that a caller checking one line against several ids reads them once.
 */
export function lineHasId(
  raw: string,
  offset: number,
  plainHead: boolean,
  id: string,
  plain: boolean,
  process: string,
): boolean {
  if (!plainHead) return raw.includes(id);
  // A message shorter than the id cannot hold it: most app lines end here.
  if (raw.length - offset >= id.length && raw.indexOf(id, offset) >= 0) return true;
  if (plain) return process.length >= id.length && process.includes(id);
  return offset > 0 && raw.lastIndexOf(id, offset - 1) >= 0;
}

/** A ring line read as an access line, and the key (accessKey) errors are matched by. */
export interface RingAccess {
  readonly key: string;
  readonly line: AccessLine;
}

export class LineRing {
  readonly micros: Float64Array;
  readonly raws: string[];
  /** Where the message starts inside the raw line. */
  readonly offsets: Int32Array;
  /**
   * 1 when the line's head is known to be `TIMESTAMP app[PROCESS]: ` with an ASCII process
   * name (read from the bytes): a request id can then be looked for in the message alone,
   * see lineHasId.
   */
  readonly plainHeads: Uint8Array;
  /** undefined: not looked at yet; null: not evidence. */
  readonly evidence: Array<Evidence | null | undefined>;
  /** The same for what only an H12 asks (requestTimeoutEvidence). */
  readonly timeoutEvidence: Array<Evidence | null | undefined>;
  /** The same for the line as an access line (access-line.ts), with its key. */
  readonly access: Array<RingAccess | null | undefined>;
  /** The router errors waiting for this dyno's next lines (kept by PendingErrors). */
  readonly waiting: Pending[] = [];
  private next = 0;
  size = 0;
  /** Lines pushed since the ring was made (line number `n` sits in slot `n % capacity`). */
  pushed = 0;
  /** Lines up to this number have been looked at for a failed connection (an H12 asks). */
  scannedForFailure = 0;
  lastFailure: Evidence | null = null;

  constructor(readonly capacity: number) {
    this.micros = new Float64Array(capacity);
    this.raws = new Array<string>(capacity).fill('');
    this.offsets = new Int32Array(capacity);
    this.plainHeads = new Uint8Array(capacity);
    this.evidence = new Array<Evidence | null | undefined>(capacity).fill(undefined);
    this.timeoutEvidence = new Array<Evidence | null | undefined>(capacity).fill(undefined);
    this.access = new Array<RingAccess | null | undefined>(capacity).fill(undefined);
  }

  /** Returns the slot written. */
  push(micros: number, raw: string, offset: number, plainHead: boolean): number {
    const slot = this.next;
    this.micros[slot] = micros;
    this.raws[slot] = raw;
    this.offsets[slot] = offset;
    this.plainHeads[slot] = plainHead ? 1 : 0;
    this.evidence[slot] = undefined;
    this.timeoutEvidence[slot] = undefined;
    this.access[slot] = undefined;
    this.next = slot + 1 === this.capacity ? 0 : slot + 1;
    if (this.size < this.capacity) this.size++;
    this.pushed++;
    return slot;
  }

  message(slot: number): string {
    return (this.raws[slot] as string).slice(this.offsets[slot] as number);
  }

  /**
   * Slots with a time in [from, to], newest first, written to `out[0, n)`; returns n. Lines
   * may be slightly out of order, so the walk stops only after `slack` microseconds of lines
   * older than `from`. `out` is the caller's scratch, kept across calls: it is never
   * truncated, as `length = 0` would drop its storage and every call would grow it again.
   */
  slotsBetween(from: number, to: number, slack: number, out: number[]): number {
    let n = 0;
    let slot = this.next;
    for (let k = 0; k < this.size; k++) {
      slot = slot === 0 ? this.capacity - 1 : slot - 1;
      const t = this.micros[slot] as number;
      if (t < from - slack) break;
      if (t >= from && t <= to) out[n++] = slot;
    }
    return n;
  }
}
