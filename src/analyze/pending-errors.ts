/**
 * Router errors waiting for their evidence. Each is held for the evidence window of log time
 * (plus the reorder slack): it gathers what was already seen (the dyno's ring, the events,
 * an early guard line) when it arrives, and what arrives while it waits; then it is decided.
 *
 * Evidence is kept only when a rule could use it (relevance.ts), in the order it was offered,
 * and capped (LIMITS.evidencePerError): the rules take the first line of a kind, so the
 * order is part of the result.
 */

import type { RouterRecord } from '../core/router-line.js';
import { type AccessLine, accessKey, describeAccess } from './access-line.js';
import type { DynoRings } from './dyno-rings.js';
import type { EventRing } from './event-ring.js';
import { detach, type Evidence, type EvidenceKind, parseGuardLine } from './evidence.js';
import { TimeoutRepeats } from './h12-repeats.js';
import { LIMITS } from './limits.js';
import { beforeBoundary, type ProcessEpochs } from './process-epochs.js';
import { decidedByAppDown, isRelevant, ownEventsFrom, releasesFrom } from './relevance.js';
import { type LineRing, lineHasId, plainId, type RingAccess } from './ring.js';
import { UNTIMED_US } from './types.js';
import type { UnmatchedGuards } from './unmatched-guards.js';
import { SLACK_US, type Windows } from './verdict.js';

export interface Pending {
  readonly record: RouterRecord;
  readonly windows: Windows;
  readonly line: string;
  readonly evidence: Evidence[];
  /** Decided by appDown (H10, H20): which evidence is relevant to it, see relevance.ts. */
  readonly appDown: boolean;
  readonly arrivedWall: number;
  /** The request id when it is long enough (8+) and the error can use a line naming it, else null. */
  readonly idToFind: string | null;
  /** See plainId: its request id can be looked for in app messages alone. */
  readonly plainId: boolean;
  /**
   * H12 only: the request's path without its query (2+ characters), looked for in the dyno's
   * lines (`Started GET "/users"`): the app logging the request it never answered.
   */
  readonly pathToFind: string | null;
  /**
   * `METHOD /path` (access-line.ts accessKey) when the line has both, else null: compared
   * with each dyno line's own key, worked out once per line (DynoRings.accessAt).
   */
  readonly accessKey: string | null;
  /** An H12: its lines are also asked what only it uses (requestTimeoutEvidence). */
  readonly h12: boolean;
  /** The ring of its dyno, whose `waiting` list holds it until it is decided. */
  readonly ring: LineRing | null;
  /** Arrival order across both queues. */
  readonly seq: number;
  done: boolean;
}

interface Queue {
  readonly items: Pending[];
  head: number;
}

export interface PendingOptions {
  readonly windowMs: number;
  readonly reorderUs: number;
  readonly maxPending: number;
  /**
   * A decided error (or a client-side one, decided at once with no evidence): its evidence,
   * and apart from it the releases relevant to it (the same for every error, so they are
   * read from the event ring at the decision rather than gathered by each error).
   */
  readonly onDecided: (
    r: RouterRecord,
    w: Windows,
    line: string,
    ev: readonly Evidence[],
    releases: readonly Evidence[],
  ) => void;
  /** An error decided before its window closed because too many were waiting. */
  readonly onForcedEarly: () => void;
  /** How the dyno was last started (`Starting process with command ...`), if seen. */
  readonly startOf?: (dyno: string) => Evidence | undefined;
  /** Where the process serving a request on the dyno began (process-epochs.ts). */
  readonly epochs?: ProcessEpochs;
}

/** H10/H20 wait this long for evidence: the R10 of the next boot comes up to 60 s later. */
const APP_DOWN_AFTER_US = 75_000_000;

export class PendingErrors {
  /**
   * In arrival order; decided ones stay until the head passes them. H10/H20 wait far longer
   * (APP_DOWN_AFTER_US) in a queue of their own, so they never hold the others' head back.
   */
  private readonly main: Queue = { items: [], head: 0 };
  private readonly down: Queue = { items: [], head: 0 };
  private readonly byId = new Map<string, Pending>();
  count = 0;
  private opened = 0;
  private readonly windowUs: number;
  /** Scratch: the ring slots, then the events, a new error looks back at. */
  private readonly near: number[] = [];
  /** Scratch: the events a new error takes, newest first. */
  private readonly picked: Evidence[] = [];
  /** Access lines of no named dyno, newest last (UNNAMED_KEPT at most). */
  private readonly unnamed: Evidence[] = [];
  /** The recent H12s, read together when one is decided (h12-repeats.ts). */
  private readonly timeouts = new TimeoutRepeats();

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
    const appDown = decidedByAppDown(code);
    const windows: Windows = {
      requestStart: t - ((r.serviceMs ?? 0) + (r.connectMs ?? 0)) * 1000 - SLACK_US,
      t,
      after: t + (appDown ? Math.max(this.windowUs, APP_DOWN_AFTER_US) : this.windowUs),
    };
    if (code === 'H27' || code === 'H28') {
      this.options.onDecided(r, windows, line, NONE, NONE);
      return;
    }
    const path = code === 'H12' ? pathOf(r.path) : null;
    const p: Pending = {
      record: r,
      windows,
      line,
      evidence: [],
      appDown,
      arrivedWall: Date.now(),
      // H10 and H20 never take a line by its id (relevance.ts: the app never saw the
      // request), so their ids are not looked for in every app line while they wait.
      idToFind: !appDown && r.requestId !== null && r.requestId.length >= 8 ? r.requestId : null,
      plainId: r.requestId !== null && plainId(r.requestId),
      pathToFind: path,
      accessKey:
        appDown || r.method === '' || !r.path.startsWith('/') ? null : accessKey(r.method, r.path),
      h12: code === 'H12',
      // Made here when the dyno has no app line yet: its lines find the error on the ring,
      // without a lookup per line.
      ring: r.dyno === null ? null : this.rings.ringFor(r.dyno),
      seq: this.opened++,
      done: false,
    };
    this.lookBack(p);
    if (p.h12 && r.method !== '')
      this.timeouts.add(p, accessKey(r.method, r.path), t, line, r.dyno ?? '');
    (appDown ? this.down : this.main).items.push(p);
    this.count++;
    p.ring?.waiting.push(p);
    if (r.requestId !== null) this.byId.set(r.requestId, p);
  }

  /** Evidence already seen: the dyno's recent lines, the events, a guard line for the id. */
  private lookBack(p: Pending): void {
    const r = p.record;
    const w = p.windows;
    const dyno = r.dyno;
    const near = this.near;
    const slack = this.options.reorderUs;
    const ring = p.ring;
    if (dyno !== null && ring !== null) {
      const n = ring.slotsBetween(w.requestStart, w.after, slack, near);
      for (let k = n - 1; k >= 0; k--) this.offerSlot(p, dyno, ring, near[k] as number);
      // An H12 also takes a connection that failed before the request (at boot) while the
      // process stayed up: the dyno's lines are each looked at once over all H12s.
      if (p.h12) {
        const failed = this.rings.lastConnectionFailure(dyno, ring, w.requestStart);
        if (failed !== null) addEvidence(p, failed);
      }
      const start = this.options.startOf?.(dyno);
      if (start !== undefined) addEvidence(p, start);
    }
    const events = this.events;
    const ownFrom = ownEventsFrom(p.appDown, w) - slack;
    // Releases are not gathered: they are the same for every error, so each takes them
    // from the ring when it is decided (see decide).
    const n =
      dyno !== null
        ? events.forDyno(dyno, near, ownFrom, Number.POSITIVE_INFINITY)
        : events.recent(ownFrom, near);
    // Newest first: when more events are relevant than an error keeps (an H10 looks ten
    // minutes back on every dyno), it keeps the latest, i.e. the crash just before it rather
    // than one from ten minutes ago, and leaves room for lines still to come. Added oldest
    // first, the order the rules read.
    const picked = this.picked;
    const budget = LIMITS.evidencePerError - LATE_EVIDENCE - p.evidence.length;
    let m = 0;
    for (let k = n - 1; k >= 0 && m < budget; k--) {
      const i = near[k] as number;
      // On the typed array first: events later than the window are common.
      if ((events.micros[i] as number) > w.after) continue;
      const e = events.at(i);
      if (takesEvent(p, e)) picked[m++] = e;
    }
    for (let j = m - 1; j >= 0; j--) addEvidence(p, picked[j] as Evidence);
    if (r.requestId !== null) {
      const g = this.guards.take(r.requestId);
      if (g !== undefined) addEvidence(p, g);
    }
    if (p.accessKey !== null) {
      for (const e of this.unnamed) if (accessMatches(p, e, slack)) addEvidence(p, e);
    }
  }

  /**
   * An access line of no named dyno (pasted alone): kept for the errors still to come, and
   * offered to those waiting. Such lines are rare (pastes), so a walk of the queue is cheap.
   */
  offerUnnamedAccess(e: Evidence): void {
    if (this.unnamed.length >= UNNAMED_KEPT) this.unnamed.shift();
    this.unnamed.push(e);
    const q = this.main;
    for (let i = q.head; i < q.items.length; i++) {
      const p = q.items[i] as Pending;
      if (!p.done && accessMatches(p, e, this.options.reorderUs)) addEvidence(p, e);
    }
  }

  /** The dyno line in `slot`, an access line for the error's request, as its evidence. */
  private accessEvidence(
    p: Pending,
    process: string,
    ring: LineRing,
    slot: number,
    a: AccessLine,
  ): void {
    const message = ring.message(slot);
    addEvidence(p, {
      kind: 'access',
      micros: ring.micros[slot] as number,
      process,
      line: detach(ring.raws[slot] as string),
      message: detach(message),
      detail: describeAccess(a),
      access: a,
    });
  }

  /**
   * A new app line in `slot` of `process`'s ring, offered to the errors waiting on it: the
   * hottest loop of a log with errors (every app line meets a few), so it is offerSlot with
   * the line's own parts read once.
   */
  offerLine(process: string, ring: LineRing, slot: number): void {
    const waiting = ring.waiting;
    if (waiting.length === 0) return;
    const micros = ring.micros[slot] as number;
    const raw = ring.raws[slot] as string;
    const offset = ring.offsets[slot] as number;
    const plainHead = ring.plainHeads[slot] === 1;
    let evidence: Evidence | null | undefined;
    let access: RingAccess | null | undefined;
    for (let k = 0; k < waiting.length; k++) {
      const p = waiting[k] as Pending;
      const w = p.windows;
      if (micros < w.requestStart || micros > w.after) continue;
      const id = p.idToFind;
      if (id !== null && lineHasId(raw, offset, plainHead, id, p.plainId, process)) {
        if (this.idEvidence(p, process, ring, slot)) continue;
      } else if (p.pathToFind !== null && raw.includes(p.pathToFind, offset)) {
        this.idEvidence(p, process, ring, slot);
      }
      if (p.accessKey !== null) {
        if (access === undefined) access = this.rings.accessAt(ring, slot);
        if (access !== null && access.key === p.accessKey)
          this.accessEvidence(p, process, ring, slot, access.line);
      }
      if (p.h12) this.h12Evidence(p, process, ring, slot);
      if (evidence === undefined) evidence = this.rings.evidenceAt(process, ring, slot);
      if (evidence !== null) addEvidence(p, evidence);
    }
  }

  /** A new dyno-manager event, offered to every waiting error (releases: see lookBack). */
  offerNewEvent(e: Evidence): void {
    if (this.count === 0 || e.kind === 'release') return;
    for (const q of [this.main, this.down]) {
      for (let i = q.head; i < q.items.length; i++) {
        const p = q.items[i] as Pending;
        if (!p.done && takesEvent(p, e)) addEvidence(p, e);
      }
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
    const id = p.idToFind;
    const raw = ring.raws[slot] as string;
    const offset = ring.offsets[slot] as number;
    if (
      id !== null &&
      lineHasId(raw, offset, ring.plainHeads[slot] === 1, id, p.plainId, process)
    ) {
      if (this.idEvidence(p, process, ring, slot)) return;
    } else if (p.pathToFind !== null && raw.includes(p.pathToFind, offset)) {
      this.idEvidence(p, process, ring, slot);
    }
    if (p.accessKey !== null) {
      const access = this.rings.accessAt(ring, slot);
      if (access !== null && access.key === p.accessKey)
        this.accessEvidence(p, process, ring, slot, access.line);
    }
    if (p.h12) this.h12Evidence(p, process, ring, slot);
    const evidence = this.rings.evidenceAt(process, ring, slot);
    if (evidence !== null) addEvidence(p, evidence);
  }

  private h12Evidence(p: Pending, process: string, ring: LineRing, slot: number): void {
    const e = this.rings.timeoutEvidenceAt(process, ring, slot);
    if (e !== null) addEvidence(p, e);
  }

  /**
   * A line holding the error's request id, as evidence: the guard's own line for it (true:
   * nothing more to take from the line) or any other line naming the request.
   */
  private idEvidence(p: Pending, process: string, ring: LineRing, slot: number): boolean {
    const id = p.idToFind ?? '';
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

  /** Decide errors whose window has closed by log time `due`, oldest first. */
  settle(due: number): void {
    this.settleQueue(this.main, due);
    this.settleQueue(this.down, due);
  }

  private settleQueue(q: Queue, due: number): void {
    while (q.head < q.items.length) {
      const p = q.items[q.head] as Pending;
      if (!p.done) {
        const overfull = this.count > this.options.maxPending;
        if (p.windows.after > due && !overfull) break;
        if (overfull) this.options.onForcedEarly();
        this.decide(p);
      }
      q.head++;
    }
    if (q.head > 1024 && q.head * 2 > q.items.length) {
      q.items.splice(0, q.head);
      q.head = 0;
    }
  }

  /** Follow mode: decide errors that have waited the window in wall time, whatever the logs say. */
  flushWall(nowWall: number): void {
    for (const q of [this.main, this.down]) {
      for (let i = q.head; i < q.items.length; i++) {
        const p = q.items[i] as Pending;
        if (p.done) continue;
        if (p.arrivedWall + this.options.windowMs > nowWall) break;
        this.decide(p);
      }
    }
  }

  /** End of input: decide everything still waiting, in arrival order. */
  decideAll(): void {
    const left: Pending[] = [];
    for (const q of [this.main, this.down]) {
      for (let i = q.head; i < q.items.length; i++) left.push(q.items[i] as Pending);
      q.items.length = 0;
      q.head = 0;
    }
    left.sort((a, b) => a.seq - b.seq);
    for (const p of left) if (!p.done) this.decide(p);
  }

  private decide(p: Pending): void {
    p.done = true;
    this.count--;
    const r = p.record;
    const waiting = p.ring?.waiting;
    if (waiting !== undefined) {
      const i = waiting.indexOf(p);
      if (i >= 0) waiting.splice(i, 1);
    }
    if (r.requestId !== null && this.byId.get(r.requestId) === p) this.byId.delete(r.requestId);
    // An H12 whose dyno logged nothing in its window: a request finishing on another dyno.
    const w = p.windows;
    if (
      p.h12 &&
      (p.ring === null || p.ring.slotsBetween(w.requestStart, w.after, 0, this.near) === 0)
    )
      for (const e of this.rings.slowElsewhere(w.t, w.after, r.dyno)) addEvidence(p, e);
    if (p.h12 && r.method !== '')
      for (const e of this.timeouts.around(p, accessKey(r.method, r.path), w.t)) addEvidence(p, e);
    this.options.onDecided(r, p.windows, p.line, this.sinceRestart(p), this.releasesFor(p));
  }

  /**
   * The evidence without what the dyno's previous processes logged (process-epochs.ts).
   * H10/H20 are about the crashes before them: they keep all of it.
   */
  private sinceRestart(p: Pending): readonly Evidence[] {
    const dyno = p.record.dyno;
    const epochs = this.options.epochs;
    if (p.appDown || dyno === null || epochs === undefined) return p.evidence;
    const boundary = epochs.boundary(dyno, p.windows);
    if (boundary === Number.NEGATIVE_INFINITY) return p.evidence;
    return p.evidence.filter((e) => !beforeBoundary(e.kind, e.process, e.micros, dyno, boundary));
  }

  /**
   * The releases relevant to the error, oldest first. Read at the decision, a few seconds of
   * log after the look-back: a release the ring dropped in between (after 512 newer events)
   * is missed, where the look-back would have caught it.
   */
  private releasesFor(p: Pending): readonly Evidence[] {
    const from = releasesFrom(p.appDown, p.windows);
    if (from === Number.POSITIVE_INFINITY) return NONE;
    const releases = this.events.releasesSince(from - this.options.reorderUs);
    // What isRelevant says of a release, in a plain loop: errors read dozens each.
    const after = p.windows.after;
    const kept: Evidence[] = [];
    for (const e of releases) if (e.micros >= from && e.micros <= after) kept.push(e);
    return kept;
  }
}

const NONE: readonly Evidence[] = Object.freeze([]);

/** A request path without its query, when it can name a request in a line (not `/` alone). */
function pathOf(path: string): string | null {
  const q = path.indexOf('?');
  const bare = q < 0 ? path : path.slice(0, q);
  return bare.length >= 2 && bare.startsWith('/') ? bare : null;
}

/** Access lines of no named dyno kept for errors still to come. */
const UNNAMED_KEPT = 256;

/**
 * Whether an access line of no named dyno is the error's request: the same method and path,
 * and (when both have a time of their own) logged while it was open. A line of a paste
 * without times (placed by input order, below UNTIMED_US) is matched by method and path alone.
 */
function accessMatches(p: Pending, e: Evidence, slackUs: number): boolean {
  const a = e.access;
  if (a === undefined || p.accessKey === null || accessKey(a.method, a.path) !== p.accessKey)
    return false;
  const w = p.windows;
  if (e.micros < UNTIMED_US || w.t < UNTIMED_US) return true;
  return e.micros >= w.requestStart - slackUs && e.micros <= w.after;
}

/** Room kept for evidence that arrives after an error (its exit line, its stack dump). */
const LATE_EVIDENCE = 16;

/** A dyno-manager event the error can use: on its dyno (if it has one), relevant. */
function takesEvent(p: Pending, e: Evidence): boolean {
  if (e.kind === 'release') return false;
  const dyno = p.record.dyno;
  if (dyno !== null && e.process !== dyno) return false;
  return isRelevant(p.appDown, p.windows, e);
}

function addEvidence(p: Pending, e: Evidence): void {
  if (p.evidence.length < LIMITS.evidencePerError && isRelevant(p.appDown, p.windows, e))
    p.evidence.push(e);
}
