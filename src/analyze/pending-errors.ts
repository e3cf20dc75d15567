/**
 * Router errors waiting for their evidence. Each is held for the evidence window of log time
 * (plus the reorder slack): it gathers what was already seen (the dyno's ring, the events,
 * an early guard line) when it arrives, and what arrives while it waits; then it is decided.
 *
 * Evidence is kept in the order it was offered and capped (LIMITS.evidencePerError): the
 * rules take the first line of a kind, so the order is part of the result.
 */

import type { RouterRecord } from '../core/router-line.js';
import type { DynoRings } from './dyno-rings.js';
import type { EventRing } from './event-ring.js';
import { detach, type Evidence, type EvidenceKind, parseGuardLine } from './evidence.js';
import { LIMITS } from './limits.js';
import { type LineRing, plainId } from './ring.js';
import type { UnmatchedGuards } from './unmatched-guards.js';
import { CRASH_LOOKBACK_US, RELEASE_US, SHUTDOWN_US, SLACK_US, type Windows } from './verdict.js';

interface Pending {
  readonly record: RouterRecord;
  readonly windows: Windows;
  readonly line: string;
  readonly evidence: Evidence[];
  readonly arrivedWall: number;
  /** The request id when it is long enough to be looked for in app lines (8+), else null. */
  readonly idToFind: string | null;
  /** See plainId: its request id can be looked for in app messages alone. */
  readonly plainId: boolean;
  /** Lower bound of what evidence it takes (wider than the request for H10). */
  readonly from: number;
  done: boolean;
}

export interface PendingOptions {
  readonly windowMs: number;
  readonly reorderUs: number;
  readonly maxPending: number;
  /** A decided error (or a client-side one, decided at once with no evidence). */
  readonly onDecided: (r: RouterRecord, w: Windows, line: string, ev: readonly Evidence[]) => void;
  /** An error decided before its window closed because too many were waiting. */
  readonly onForcedEarly: () => void;
}

export class PendingErrors {
  /** In arrival order; decided ones stay until the head passes them. */
  private readonly queue: Pending[] = [];
  private queueHead = 0;
  private readonly byDyno = new Map<string, Pending[]>();
  private readonly byId = new Map<string, Pending>();
  count = 0;
  private readonly windowUs: number;
  /** Scratch: the ring slots, then the events, a new error looks back at. */
  private readonly near: number[] = [];

  constructor(
    private readonly rings: DynoRings,
    private readonly events: EventRing,
    private readonly guards: UnmatchedGuards,
    private readonly options: PendingOptions,
  ) {
    this.windowUs = options.windowMs * 1000;
  }

  /** A router error at log time `t`: decided now (client-side) or held with what is known. */
  open(r: RouterRecord, t: number, line: string): void {
    const code = r.code as string;
    const windows: Windows = {
      requestStart: t - ((r.serviceMs ?? 0) + (r.connectMs ?? 0)) * 1000 - SLACK_US,
      t,
      after: t + this.windowUs,
    };
    if (code === 'H27' || code === 'H28') {
      this.options.onDecided(r, windows, line, []);
      return;
    }
    const appDown = code === 'H10' || code === 'H20';
    const p: Pending = {
      record: r,
      windows,
      line,
      evidence: [],
      arrivedWall: Date.now(),
      idToFind: r.requestId !== null && r.requestId.length >= 8 ? r.requestId : null,
      plainId: r.requestId !== null && plainId(r.requestId),
      from: appDown ? t - CRASH_LOOKBACK_US : t - RELEASE_US - SHUTDOWN_US,
      done: false,
    };
    this.lookBack(p);
    this.queue.push(p);
    this.count++;
    if (r.dyno !== null) {
      const list = this.byDyno.get(r.dyno);
      if (list === undefined) this.byDyno.set(r.dyno, [p]);
      else list.push(p);
    }
    if (r.requestId !== null) this.byId.set(r.requestId, p);
  }

  /** Evidence already seen: the dyno's recent lines, the events, a guard line for the id. */
  private lookBack(p: Pending): void {
    const r = p.record;
    const w = p.windows;
    const dyno = r.dyno;
    if (dyno !== null) {
      const ring = this.rings.get(dyno);
      if (ring !== undefined) {
        const slots = ring.slotsBetween(w.requestStart, w.after, this.options.reorderUs, this.near);
        for (let k = slots.length - 1; k >= 0; k--)
          this.offerSlot(p, dyno, ring, slots[k] as number);
      }
    }
    const events = this.events;
    const near = this.near;
    if (dyno !== null) events.forDyno(dyno, near);
    else {
      near.length = 0;
      for (let k = 0; k < events.count; k++) near.push(events.index(k));
    }
    for (const i of near) {
      const m = events.micros[i] as number;
      // offerEvent's own test, on the typed array: many events are older than any window.
      if (m < p.from || m > w.after) continue;
      this.offerEvent(p, events.at(i));
    }
    if (r.requestId !== null) {
      const g = this.guards.take(r.requestId);
      if (g !== undefined) addEvidence(p, g);
    }
  }

  /**
   * A new app line in `slot` of `process`'s ring, offered to the errors waiting on it: the
   * hottest loop of a log with errors (every app line meets a few), so it is offerSlot with
   * the line's own parts read once.
   */
  offerLine(process: string, ring: LineRing, slot: number): void {
    if (this.count === 0) return;
    const waiting = this.byDyno.get(process);
    if (waiting === undefined) return;
    const micros = ring.micros[slot] as number;
    let evidence: Evidence | null | undefined;
    for (let k = 0; k < waiting.length; k++) {
      const p = waiting[k] as Pending;
      if (micros < p.windows.requestStart || micros > p.windows.after) continue;
      if (p.idToFind !== null && ring.hasRequestId(slot, p.idToFind, p.plainId, process)) {
        if (this.idEvidence(p, process, ring, slot)) continue;
      }
      if (evidence === undefined) evidence = this.rings.evidenceAt(process, ring, slot);
      if (evidence !== null) addEvidence(p, evidence);
    }
  }

  /** A new dyno-manager event or release, offered to every waiting error. */
  offerNewEvent(e: Evidence): void {
    if (this.count === 0) return;
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const p = this.queue[i] as Pending;
      if (!p.done) this.offerEvent(p, e);
    }
  }

  /** A guard line: true when the error it names is waiting (it then becomes its evidence). */
  offerGuard(requestId: string, e: Evidence): boolean {
    const p = this.byId.get(requestId);
    if (p === undefined || p.done) return false;
    addEvidence(p, e);
    return true;
  }

  private offerSlot(p: Pending, process: string, ring: LineRing, slot: number): void {
    const micros = ring.micros[slot] as number;
    if (micros < p.windows.requestStart || micros > p.windows.after) return;
    if (p.idToFind !== null && ring.hasRequestId(slot, p.idToFind, p.plainId, process)) {
      if (this.idEvidence(p, process, ring, slot)) return;
    }
    const evidence = this.rings.evidenceAt(process, ring, slot);
    if (evidence !== null) addEvidence(p, evidence);
  }

  /**
   * A line holding the error's request id, as evidence: the guard's own line for it (true:
   * nothing more to take from the line) or any other line naming the request.
   */
  private idEvidence(p: Pending, process: string, ring: LineRing, slot: number): boolean {
    const id = p.idToFind as string;
    const message = detach(ring.message(slot), 16_384);
    const guard = parseGuardLine(message);
    const kind: EvidenceKind = guard !== null && guard.requestId === id ? 'guard' : 'request-id';
    addEvidence(p, {
      kind,
      micros: ring.micros[slot] as number,
      process,
      line: detach(ring.raws[slot] as string),
      message,
      detail: guard !== null ? guard.cause || guard.step || guard.code : '',
    });
    return kind === 'guard';
  }

  private offerEvent(p: Pending, e: Evidence): void {
    if (e.micros < p.from || e.micros > p.windows.after) return;
    const dyno = p.record.dyno;
    if (e.kind !== 'release' && dyno !== null && e.process !== dyno) return;
    addEvidence(p, e);
  }

  /** Decide errors whose window has closed by log time `due`, oldest first. */
  settle(due: number): void {
    while (this.queueHead < this.queue.length) {
      const p = this.queue[this.queueHead] as Pending;
      if (!p.done) {
        const overfull = this.count > this.options.maxPending;
        if (p.windows.after > due && !overfull) break;
        if (overfull) this.options.onForcedEarly();
        this.decide(p);
      }
      this.queueHead++;
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  /** Follow mode: decide errors that have waited the window in wall time, whatever the logs say. */
  flushWall(nowWall: number): void {
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const p = this.queue[i] as Pending;
      if (p.done) continue;
      if (p.arrivedWall + this.options.windowMs > nowWall) break;
      this.decide(p);
    }
  }

  /** End of input: decide everything still waiting. */
  decideAll(): void {
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const p = this.queue[i] as Pending;
      if (!p.done) this.decide(p);
    }
    this.queue.length = 0;
    this.queueHead = 0;
  }

  private decide(p: Pending): void {
    p.done = true;
    this.count--;
    const r = p.record;
    if (r.dyno !== null) {
      const list = this.byDyno.get(r.dyno);
      if (list !== undefined) {
        const i = list.indexOf(p);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.byDyno.delete(r.dyno);
      }
    }
    if (r.requestId !== null && this.byId.get(r.requestId) === p) this.byId.delete(r.requestId);
    this.options.onDecided(r, p.windows, p.line, p.evidence);
  }
}

function addEvidence(p: Pending, e: Evidence): void {
  if (p.evidence.length < LIMITS.evidencePerError) p.evidence.push(e);
}
