/**
 * The recent app lines of every web dyno, one LineRing each: what a router error looks back
 * at, and what a crash leaves behind. An app line's evidence is worked out at most once,
 * the first time anything asks, and cached in its slot.
 */

import { accessKey, mayBeAccessAt, parseAccessLine } from './access-line.js';
import { appEvidence, type Evidence, mayBeEvidence, requestTimeoutEvidence } from './evidence.js';
import { LIMITS } from './limits.js';
import { LineRing, type RingAccess } from './ring.js';

/** How far around a crash the app's error lines are kept for later H10s. */
const SNAPSHOT_BEFORE_US = 10_000_000;
const SNAPSHOT_AFTER_US = 1_000_000;
const SNAPSHOT_LINES = 8;

export class DynoRings {
  private readonly rings = new Map<string, LineRing>();
  /** Most app lines come from the dyno of the line before: one compare instead of a lookup. */
  private lastName = '';
  private last: LineRing | null = null;
  /** Scratch for crashSnapshot, reused (see LineRing.slotsBetween). */
  private readonly slots: number[] = [];

  constructor(
    /** How far out of timestamp order lines may arrive, in microseconds. */
    private readonly reorderUs: number,
  ) {}

  /** Dynos with a ring (at most LIMITS.dynos). */
  get size(): number {
    return this.rings.size;
  }

  get(process: string): LineRing | undefined {
    return this.rings.get(process);
  }

  /** The dyno's ring, made on its first line or error; past LIMITS.dynos one goes (evictOne). */
  ringFor(process: string): LineRing {
    if (process === this.lastName && this.last !== null) return this.last;
    let ring = this.rings.get(process);
    if (ring === undefined) {
      if (this.rings.size >= LIMITS.dynos) this.evictOne();
      ring = new LineRing(LIMITS.ringLines);
      this.rings.set(process, ring);
    }
    this.lastName = process;
    this.last = ring;
    return ring;
  }

  /**
   * The first dyno seen goes, unless errors wait on its lines: they would not see the lines
   * that come to its new ring. Only when every ring has waiting errors does the first go.
   */
  private evictOne(): void {
    let victim: string | undefined;
    for (const [name, ring] of this.rings) {
      victim ??= name;
      if (ring.waiting.length === 0) {
        victim = name;
        break;
      }
    }
    if (victim === undefined) return;
    this.rings.delete(victim);
    if (victim === this.lastName) this.last = null;
  }

  /** The line in `slot` as evidence (a stack line, a worker timeout, out of memory), or null. */
  evidenceAt(process: string, ring: LineRing, slot: number): Evidence | null {
    let evidence = ring.evidence[slot];
    if (evidence === undefined) {
      const raw = ring.raws[slot] as string;
      evidence = mayBeEvidence(raw, ring.offsets[slot] as number)
        ? appEvidence(process, ring.micros[slot] as number, raw, ring.message(slot))
        : null;
      ring.evidence[slot] = evidence;
    }
    return evidence;
  }

  /** The line in `slot` as an access line with its key, or null (worked out once per line). */
  accessAt(ring: LineRing, slot: number): RingAccess | null {
    let access = ring.access[slot];
    if (access === undefined) {
      const raw = ring.raws[slot] as string;
      const offset = ring.offsets[slot] as number;
      const line = mayBeAccessAt(raw, offset) ? parseAccessLine(raw.slice(offset)) : null;
      access = line === null ? null : { key: accessKey(line.method, line.path), line };
      ring.access[slot] = access;
    }
    return access;
  }

  /** The line in `slot` as what only an H12 asks (a slow finish, no status), or null. */
  timeoutEvidenceAt(process: string, ring: LineRing, slot: number): Evidence | null {
    let evidence = ring.timeoutEvidence[slot];
    if (evidence === undefined) {
      evidence = requestTimeoutEvidence(
        process,
        ring.micros[slot] as number,
        ring.raws[slot] as string,
        ring.offsets[slot] as number,
      );
      ring.timeoutEvidence[slot] = evidence;
    }
    return evidence;
  }

  /**
   * The latest failed connection logged on the dyno before `before`: each line is looked at
   * once over all the H12s that ask (the ring remembers how far it has looked).
   */
  lastConnectionFailure(process: string, ring: LineRing, before: number): Evidence | null {
    for (let n = Math.max(ring.scannedForFailure, ring.pushed - ring.size); n < ring.pushed; n++) {
      const slot = n % ring.capacity;
      if ((ring.micros[slot] as number) >= before) break;
      const e = this.evidenceAt(process, ring, slot);
      if (e !== null && e.kind === 'connection-failed') ring.lastFailure = e;
      ring.scannedForFailure = n + 1;
    }
    return ring.lastFailure;
  }

  /**
   * Lines that finish a request after 29 s or more on every dyno but `except` within
   * [from, to]: for an H12 whose own dyno logged nothing then (logs whose router and app
   * disagree on the dyno's name).
   */
  slowElsewhere(from: number, to: number, except: string | null): Evidence[] {
    const found: Evidence[] = [];
    for (const [process, ring] of this.rings) {
      if (process === except) continue;
      const n = ring.slotsBetween(from, to, this.reorderUs, this.slots);
      for (let k = n - 1; k >= 0; k--) {
        const e = this.timeoutEvidenceAt(process, ring, this.slots[k] as number);
        if (e !== null && e.kind === 'slow') found.push(e);
      }
    }
    return found;
  }

  /**
   * The app's last error lines around a crash at `t`, newest first: kept with the events so
   * an H10 that comes long after the lines have left the ring can still show them.
   */
  crashSnapshot(process: string, t: number): Evidence[] {
    const kept: Evidence[] = [];
    const ring = this.rings.get(process);
    if (ring === undefined) return kept;
    const slots = this.slots;
    const n = ring.slotsBetween(
      t - SNAPSHOT_BEFORE_US,
      t + SNAPSHOT_AFTER_US,
      this.reorderUs,
      slots,
    );
    for (let k = 0; k < n && kept.length < SNAPSHOT_LINES; k++) {
      const evidence = this.evidenceAt(process, ring, slots[k] as number);
      if (evidence !== null) kept.push(evidence);
    }
    return kept;
  }
}
