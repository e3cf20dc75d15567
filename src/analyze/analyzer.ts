/**
 * The streaming core. Lines go in (any supported format, in any mix); each router error is
 * held for a short window of log time while evidence arrives, then decided and handed to
 * `onDiagnosis`. Everything kept is bounded: a ring of recent lines per web dyno, a ring of
 * dyno-manager events and releases, a capped queue of pending errors, capped aggregates.
 *
 * The hot path (a `heroku logs` router line at=info) is read from the input bytes
 * (byte-scan.ts) and allocates nothing; other lines are decoded one at a time.
 */

import { formatTimestamp } from '../core/heroku-log.js';
import type { RouterRecord } from '../core/router-line.js';
import { Aggregate } from './aggregate.js';
import {
  createByteHead,
  createByteTimestampReader,
  createNameTable,
  HEAD,
  readHead,
} from './byte-scan.js';
import {
  CRASH_LOOKBACK_US,
  decide,
  guardCause,
  RELEASE_US,
  SHUTDOWN_US,
  SLACK_US,
  type Windows,
} from './diagnose.js';
import { EventRing } from './event-ring.js';
import {
  type Classified,
  classifyApi,
  classifyApp,
  classifyDynoManager,
  detach,
  type Evidence,
  type EvidenceKind,
  frameKey,
  parseGuardLine,
} from './evidence.js';
import {
  createScratch,
  displaySample,
  type InputFormat,
  parseHerokuAt,
  parseJsonLine,
  parsePapertrail,
  parsePapertrailTsv,
  parseSyslogFrame,
  type Scratch,
  splitFrames,
  stripAnsi,
} from './line-parse.js';
import { LineRing, plainId } from './ring.js';
import { normaliseRoute } from './route.js';
import { scanRouterMessage } from './router-scan.js';
import { Timeline } from './timeline.js';
import { createTimestampReader } from './timestamp.js';
import type { Diagnosis, InputStats } from './types.js';

export interface AnalyzerOptions {
  /** How long (log time) after a router error its evidence may still arrive. */
  readonly windowMs?: number;
  /** How far out of timestamp order lines may arrive. */
  readonly reorderMs?: number;
  /** Papertrail lines have no year: the year of this time is assumed. */
  readonly nowMs?: number;
  readonly onDiagnosis?: (d: Diagnosis) => void;
  /** Pending errors held at most; beyond, the oldest is decided early. */
  readonly maxPending?: number;
}

export const LIMITS = {
  ringLines: 512,
  dynos: 256,
  events: 512,
  pending: 5000,
  guardLines: 10_000,
  evidencePerError: 48,
  unparsedSamples: 5,
} as const;

interface Pending {
  readonly record: RouterRecord;
  readonly windows: Windows;
  readonly line: string;
  readonly evidence: Evidence[];
  readonly arrivedWall: number;
  /** See plainId: its request id can be looked for in app messages alone. */
  readonly plainId: boolean;
  /** Lower bound of what evidence it takes (wider than the request for H10). */
  readonly from: number;
  done: boolean;
}

interface GuardSeen {
  readonly evidence: Evidence;
  readonly code: string;
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly stack: string;
}

export interface AnalysisResult {
  readonly stats: InputStats;
  readonly aggregate: Aggregate;
  readonly timeline: Timeline;
}

const MARKER_KINDS = new Set<EvidenceKind>([
  'release',
  'sigterm',
  'restart',
  'crash',
  'boot-failure',
  'memory',
  'exit',
]);

function isWeb(process: string): boolean {
  return process.startsWith('web');
}

export class Analyzer {
  readonly stats: InputStats = {
    bytes: 0,
    lines: 0,
    blank: 0,
    records: 0,
    parsed: 0,
    unparsed: 0,
    oversized: 0,
    truncatedFrames: 0,
    formats: { heroku: 0, papertrail: 0, syslog: 0, json: 0 },
    routerLines: 0,
    routerErrors: 0,
    appLines: 0,
    platformLines: 0,
    unparsedSamples: [],
    forcedEarly: 0,
    firstMicros: Number.NaN,
    lastMicros: Number.NaN,
  };
  readonly aggregate = new Aggregate();
  readonly timeline = new Timeline();

  private readonly windowUs: number;
  private readonly reorderUs: number;
  private readonly windowMs: number;
  private readonly nowMs: number;
  private readonly maxPending: number;
  private readonly onDiagnosis: ((d: Diagnosis) => void) | undefined;
  private readonly ts = createTimestampReader();
  private readonly tsBytes = createByteTimestampReader();
  private readonly head = createByteHead();
  private readonly nameOf = createNameTable((name) => this.intern(name));
  private readonly scratch: Scratch = createScratch();

  private watermark = Number.NEGATIVE_INFINITY;
  private readonly rings = new Map<string, LineRing>();
  private lastRingName = '';
  private lastRing: LineRing | null = null;
  /** Dyno-manager events, releases and crash-time stack snapshots, oldest first. */
  private readonly events = new EventRing(LIMITS.events);
  private readonly queue: Pending[] = [];
  private queueHead = 0;
  private readonly pendingByDyno = new Map<string, Pending[]>();
  private readonly pendingById = new Map<string, Pending>();
  private pendingCount = 0;
  private readonly guards = new Map<string, GuardSeen>();
  private readonly names = new Map<string, string>();

  constructor(options: AnalyzerOptions = {}) {
    this.windowMs = options.windowMs ?? 5000;
    this.windowUs = this.windowMs * 1000;
    this.reorderUs = (options.reorderMs ?? 2000) * 1000;
    this.nowMs = options.nowMs ?? Date.now();
    this.maxPending = options.maxPending ?? LIMITS.pending;
    this.onDiagnosis = options.onDiagnosis;
  }

  /** Complete lines separated by `\n` (a final line without `\n` is taken as complete). */
  pushText(text: string): void {
    const n = text.length;
    let pos = 0;
    while (pos < n) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = n;
      let end = nl;
      if (end > pos && text.charCodeAt(end - 1) === 13) end--;
      this.lineAt(text, pos, end);
      pos = nl + 1;
    }
    this.settle();
  }

  /**
   * Complete lines in `buf[from, to)`, each ending at `\n` (a final line without one is taken
   * as complete). Router `at=info` lines are counted from the bytes; any other line is decoded
   * on its own, so a kept line is a string of its own and never pins the input chunk.
   */
  pushBytes(buf: Buffer, from: number, to: number): void {
    const stats = this.stats;
    const ts = this.tsBytes;
    const head = this.head;
    let pos = from;
    while (pos < to) {
      let nl = buf.indexOf(10, pos);
      if (nl < 0 || nl > to) nl = to;
      let end = nl;
      if (end > pos && buf[end - 1] === 13) end--;
      const kind = pos === end ? HEAD.other : readHead(buf, pos, end, ts, head);
      if (kind === HEAD.routerInfo) {
        stats.lines++;
        stats.records++;
        stats.parsed++;
        stats.formats.heroku++;
        stats.routerLines++;
        this.seen(head.micros);
        this.timeline.addRequest(head.micros);
      } else if (pos === end) {
        stats.lines++;
        stats.blank++;
      } else if (kind === HEAD.entry) {
        stats.lines++;
        stats.records++;
        stats.parsed++;
        stats.formats.heroku++;
        this.seen(head.micros);
        const process = this.nameOf(buf, head.processStart, head.processEnd);
        this.entry(
          head.platform ? 'heroku' : 'app',
          process,
          head.micros,
          buf.toString('utf8', pos, end),
          head.message - pos,
          true,
        );
      } else {
        const text = buf.toString('utf8', pos, end);
        this.lineAt(text, 0, text.length);
      }
      pos = nl + 1;
    }
    this.settle();
  }

  /** A line longer than the cap, skipped unread. `head` is its beginning, for the sample. */
  pushOversized(head: string, length: number): void {
    this.stats.lines++;
    this.stats.records++;
    this.stats.oversized++;
    this.unparsed(`${head.slice(0, 80)}`, ` [oversized line: ${length} bytes, skipped]`);
  }

  private unparsed(line: string, note = ''): void {
    this.stats.unparsed++;
    if (this.stats.unparsedSamples.length < LIMITS.unparsedSamples)
      this.stats.unparsedSamples.push(detach(displaySample(line, 160) + note));
  }

  private lineAt(text: string, start: number, end: number): void {
    const stats = this.stats;
    stats.lines++;
    if (start === end) {
      stats.blank++;
      return;
    }
    stats.records++;
    const c0 = text.charCodeAt(start);
    if (c0 >= 48 && c0 <= 57 && end - start > 20 && text.charCodeAt(start + 4) === 45) {
      const s = this.scratch;
      const msg = parseHerokuAt(text, start, end, this.ts, s);
      if (msg >= 0) {
        stats.parsed++;
        stats.formats.heroku++;
        this.seen(s.micros);
        if (s.process === 'router' && s.source === 'heroku') {
          this.router(text, msg, end, start, s.micros);
        } else {
          this.entry(
            s.source,
            this.intern(s.process),
            s.micros,
            text.slice(start, end),
            msg - start,
          );
        }
        return;
      }
    }
    this.slowLine(text.slice(start, end));
  }

  /**
   * Process names are kept (ring keys, evidence): a slice of the input would keep its whole
   * chunk alive, so each name is copied once and reused.
   */
  private intern(name: string): string {
    const known = this.names.get(name);
    if (known !== undefined) return known;
    const copy = detach(name, 64);
    if (this.names.size < 4096) this.names.set(copy, copy);
    return copy;
  }

  private seen(micros: number): void {
    if (micros > this.watermark) this.watermark = micros;
    const stats = this.stats;
    if (!(micros >= stats.firstMicros)) stats.firstMicros = micros;
    if (!(micros <= stats.lastMicros)) stats.lastMicros = micros;
  }

  /** Everything that is not a well-formed `heroku logs` line. */
  private slowLine(original: string): void {
    const line = original.includes('\u001b') ? stripAnsi(original) : original;
    const s = this.scratch;
    const c0 = line.charCodeAt(0);
    if (c0 >= 48 && c0 <= 57) {
      const msg = parseHerokuAt(line, 0, line.length, this.ts, s);
      if (msg >= 0) {
        this.stats.parsed++;
        this.stats.formats.heroku++;
        this.seen(s.micros);
        if (s.process === 'router' && s.source === 'heroku')
          this.router(line, msg, line.length, 0, s.micros);
        else this.entry(s.source, this.intern(s.process), s.micros, line, msg);
        return;
      }
      const framed = splitFrames(line);
      if (framed !== null) {
        this.stats.records += framed.frames.length - 1;
        this.stats.truncatedFrames += framed.truncated;
        for (const frame of framed.frames)
          this.parsedOrNot(frame, parseSyslogFrame(frame, this.ts, s));
        return;
      }
    }
    if (c0 === 60 /* < */) {
      this.parsedOrNot(line, parseSyslogFrame(line, this.ts, s));
      return;
    }
    if (c0 === 123 /* { */) {
      this.parsedOrNot(line, parseJsonLine(line, this.ts, s));
      return;
    }
    if (
      parsePapertrail(line, this.nowMs, s) ||
      (line.includes('\t') && parsePapertrailTsv(line, this.ts, s))
    ) {
      this.parsedOrNot(line, true);
      return;
    }
    // The guard's own line, read from the app's stderr rather than through heroku logs.
    if (line.startsWith('at=') && parseGuardLine(line) !== null) {
      s.format = 'heroku';
      s.micros = Number.isFinite(this.watermark) ? this.watermark : Number.NaN;
      s.source = 'app';
      s.process = 'guard';
      s.message = line;
      this.parsedOrNot(line, true);
      return;
    }
    this.unparsed(line);
  }

  /** A line in another format, parsed into the scratch object (or not). */
  private parsedOrNot(line: string, ok: boolean): void {
    if (!ok) {
      this.unparsed(line);
      return;
    }
    const s = this.scratch;
    this.stats.parsed++;
    this.stats.formats[s.format as InputFormat]++;
    if (!Number.isNaN(s.micros)) this.seen(s.micros);
    if (s.source === 'heroku' && s.process === 'router') {
      this.router(s.message, 0, s.message.length, -1, s.micros);
      return;
    }
    // Shown as a `heroku logs` line whatever the input format, so reports read the same.
    const micros = Number.isNaN(s.micros) ? 0 : s.micros;
    const prefix = `${formatTimestamp(micros)} ${s.source}[${s.process}]: `;
    this.entry(s.source, this.intern(s.process), s.micros, prefix + s.message, prefix.length);
  }

  private router(text: string, msg: number, end: number, lineStart: number, micros: number): void {
    this.stats.routerLines++;
    if (text.startsWith('at=info ', msg)) {
      this.timeline.addRequest(micros);
      return;
    }
    // Copied out of the chunk: the record's fields are kept (samples, group keys) and must
    // not keep the whole input chunk alive with them.
    const message = detach(text.slice(msg, end), 16_384);
    const r = scanRouterMessage(message);
    this.timeline.addRequest(micros);
    if (r === null || r.code === null || r.at === 'info') return;
    const line =
      lineStart >= 0
        ? text.slice(lineStart, end)
        : `${formatTimestamp(Number.isNaN(micros) ? 0 : micros)} heroku[router]: ${message}`;
    this.routerError(r, micros, line);
  }

  private routerError(r: RouterRecord, micros: number, rawLine: string): void {
    this.stats.routerErrors++;
    const code = r.code as string;
    const t = Number.isNaN(micros) ? this.watermark : micros;
    this.timeline.addError(t, code);
    const line = detach(rawLine);
    const windows: Windows = {
      requestStart: t - ((r.serviceMs ?? 0) + (r.connectMs ?? 0)) * 1000 - SLACK_US,
      t,
      after: t + this.windowUs,
    };
    if (code === 'H27' || code === 'H28') {
      this.emit(r, windows, line, []);
      return;
    }
    const appDown = code === 'H10' || code === 'H20';
    const p: Pending = {
      record: r,
      windows,
      line,
      evidence: [],
      arrivedWall: Date.now(),
      plainId: r.requestId !== null && plainId(r.requestId),
      from: appDown ? t - CRASH_LOOKBACK_US : t - RELEASE_US - SHUTDOWN_US,
      done: false,
    };
    // Evidence already seen: the dyno's recent lines, events, a guard line for the id.
    if (r.dyno !== null) {
      const ring = this.rings.get(r.dyno);
      if (ring !== undefined) {
        const slots = ring.slotsBetween(windows.requestStart, windows.after, this.reorderUs);
        for (let k = slots.length - 1; k >= 0; k--)
          this.offerSlot(p, r.dyno, ring, slots[k] as number);
      }
    }
    const events = this.events;
    const dyno = r.dyno;
    for (let k = 0; k < events.count; k++) {
      const i = events.index(k);
      const m = events.micros[i] as number;
      // offerEvent's own tests, on the parallel arrays: most events fail them.
      if (m < p.from || m > windows.after) continue;
      if (events.releases[i] === 0 && dyno !== null && events.processes[i] !== dyno) continue;
      this.offerEvent(p, events.at(i));
    }
    if (r.requestId !== null) {
      const g = this.guards.get(r.requestId);
      if (g !== undefined) {
        this.guards.delete(r.requestId);
        this.addEvidence(p, g.evidence);
      }
    }
    this.queue.push(p);
    this.pendingCount++;
    if (r.dyno !== null) {
      const list = this.pendingByDyno.get(r.dyno);
      if (list === undefined) this.pendingByDyno.set(r.dyno, [p]);
      else list.push(p);
    }
    if (r.requestId !== null) this.pendingById.set(r.requestId, p);
  }

  private addEvidence(p: Pending, e: Evidence): void {
    if (p.evidence.length < LIMITS.evidencePerError) p.evidence.push(e);
  }

  private offerSlot(p: Pending, process: string, ring: LineRing, slot: number): void {
    const micros = ring.micros[slot] as number;
    if (micros < p.windows.requestStart || micros > p.windows.after) return;
    const id = p.record.requestId;
    const raw = ring.raws[slot] as string;
    if (id !== null && id.length >= 8 && ring.hasRequestId(slot, id, p.plainId, process)) {
      const message = detach(ring.message(slot), 16_384);
      const guard = parseGuardLine(message);
      const kind: EvidenceKind = guard !== null && guard.requestId === id ? 'guard' : 'request-id';
      this.addEvidence(p, {
        kind,
        micros,
        process,
        line: detach(raw),
        message,
        detail: guard !== null ? guard.cause || guard.step || guard.code : '',
      });
      if (kind === 'guard') return;
    }
    let evidence = ring.evidence[slot];
    if (evidence === undefined) {
      evidence = appEvidence(process, micros, raw, ring.message(slot));
      ring.evidence[slot] = evidence;
    }
    if (evidence !== null) this.addEvidence(p, evidence);
  }

  private offerEvent(p: Pending, e: Evidence): void {
    if (e.micros < p.from || e.micros > p.windows.after) return;
    const dyno = p.record.dyno;
    if (e.kind !== 'release' && dyno !== null && e.process !== dyno) return;
    this.addEvidence(p, e);
  }

  /** Any line that is not a router line. `offset` is where its message starts. */
  private entry(
    source: string,
    process: string,
    micros: number,
    raw: string,
    offset: number,
    plainHead = false,
  ): void {
    if (source === 'heroku') {
      this.stats.platformLines++;
      const message = raw.slice(offset);
      const c = process === 'api' ? classifyApi(message) : classifyDynoManager(message);
      if (c !== null) this.event(c, process, micros, raw, message);
      return;
    }
    this.stats.appLines++;
    if (process === 'api') {
      const message = raw.slice(offset);
      const c = classifyApi(message);
      if (c !== null) this.event(c, process, micros, raw, message);
      return;
    }
    if (raw.startsWith('at=', offset) && raw.includes('code=H', offset)) {
      if (this.guardLine(process, micros, raw, raw.slice(offset))) return;
    }
    if (!isWeb(process)) return;
    let ring: LineRing;
    if (process === this.lastRingName && this.lastRing !== null) ring = this.lastRing;
    else {
      let found = this.rings.get(process);
      if (found === undefined) {
        if (this.rings.size >= LIMITS.dynos) {
          const oldest = this.rings.keys().next().value as string;
          this.rings.delete(oldest);
        }
        found = new LineRing(LIMITS.ringLines);
        this.rings.set(process, found);
      }
      ring = found;
      this.lastRingName = process;
      this.lastRing = ring;
    }
    const slot = ring.push(Number.isNaN(micros) ? this.watermark : micros, raw, offset, plainHead);
    if (this.pendingCount > 0) {
      const waiting = this.pendingByDyno.get(process);
      if (waiting !== undefined) for (const p of waiting) this.offerSlot(p, process, ring, slot);
    }
  }

  private guardLine(process: string, micros: number, raw: string, chunkMessage: string): boolean {
    const message = detach(chunkMessage, 16_384);
    const g = parseGuardLine(message);
    if (g === null) return false;
    const evidence: Evidence = {
      kind: 'guard',
      micros: Number.isNaN(micros) ? this.watermark : micros,
      process,
      line: detach(raw),
      message,
      detail: g.cause || g.step || g.code,
    };
    const p = this.pendingById.get(g.requestId);
    if (p !== undefined && !p.done) {
      this.addEvidence(p, evidence);
      return true;
    }
    if (this.guards.size >= LIMITS.guardLines)
      this.expireGuard(this.guards.keys().next().value as string);
    const fields = parseGuardFields(message);
    this.guards.set(g.requestId, {
      evidence,
      code: g.code,
      requestId: g.requestId,
      method: fields.method,
      path: fields.path,
      stack: g.stack,
    });
    return true;
  }

  /** A dyno-manager event or a release: kept, drawn on the timeline, offered to what waits. */
  private event(
    c: NonNullable<Classified>,
    process: string,
    micros: number,
    raw: string,
    message: string,
  ): void {
    const t = Number.isNaN(micros) ? this.watermark : micros;
    const e: Evidence = {
      kind: c.kind,
      micros: t,
      process,
      line: detach(raw),
      message: detach(message),
      detail: detach(c.detail, 200),
    };
    if (MARKER_KINDS.has(c.kind) && (c.kind === 'release' || isWeb(process)))
      this.timeline.addMarker({ micros: t, kind: c.kind, process, detail: e.detail });
    if (c.kind === 'crash' || c.kind === 'exit' || c.kind === 'boot-failure')
      this.snapshotStack(process, t);
    this.remember(e);
    if (this.pendingCount > 0) {
      for (let i = this.queueHead; i < this.queue.length; i++) {
        const p = this.queue[i] as Pending;
        if (!p.done) this.offerEvent(p, e);
      }
    }
  }

  private remember(e: Evidence): void {
    this.events.push(e);
  }

  /** The app's last error lines before a crash, kept for H10s that come long after. */
  private snapshotStack(process: string, t: number): void {
    const ring = this.rings.get(process);
    if (ring === undefined) return;
    const slots = ring.slotsBetween(t - 10_000_000, t + 1_000_000, this.reorderUs);
    let kept = 0;
    for (const slot of slots) {
      if (kept >= 8) break;
      let evidence = ring.evidence[slot];
      if (evidence === undefined) {
        evidence = appEvidence(
          process,
          ring.micros[slot] as number,
          ring.raws[slot] as string,
          ring.message(slot),
        );
        ring.evidence[slot] = evidence;
      }
      if (evidence === null) continue;
      kept++;
      this.remember(evidence);
    }
  }

  /** Decide what is due: errors whose window has passed in log time, expired guard lines. */
  private settle(): void {
    const due = this.watermark - this.reorderUs;
    while (this.queueHead < this.queue.length) {
      const p = this.queue[this.queueHead] as Pending;
      if (!p.done) {
        const overfull = this.pendingCount > this.maxPending;
        if (p.windows.after > due && !overfull) break;
        if (overfull) this.stats.forcedEarly++;
        this.finalize(p);
      }
      this.queueHead++;
    }
    this.compactQueue();
    for (const [id, g] of this.guards) {
      if (g.evidence.micros + this.windowUs > due) break;
      this.expireGuard(id);
    }
  }

  private compactQueue(): void {
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  /** Follow mode: decide errors that have waited `window` of wall time, whatever the logs say. */
  flushWall(nowWall: number = Date.now()): void {
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const p = this.queue[i] as Pending;
      if (p.done) continue;
      if (p.arrivedWall + this.windowMs > nowWall) break;
      this.finalize(p);
    }
    this.settle();
  }

  get pending(): number {
    return this.pendingCount;
  }

  private finalize(p: Pending): void {
    p.done = true;
    this.pendingCount--;
    const r = p.record;
    if (r.dyno !== null) {
      const list = this.pendingByDyno.get(r.dyno);
      if (list !== undefined) {
        const i = list.indexOf(p);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.pendingByDyno.delete(r.dyno);
      }
    }
    if (r.requestId !== null && this.pendingById.get(r.requestId) === p)
      this.pendingById.delete(r.requestId);
    this.emit(r, p.windows, p.line, p.evidence);
  }

  private emit(r: RouterRecord, w: Windows, line: string, evidence: readonly Evidence[]): void {
    const v = decide(r, w, evidence);
    const proof = [...v.proof].sort((a, b) => a.micros - b.micros);
    const frames = framesOf(proof);
    const d: Diagnosis = {
      code: r.code as string,
      cause: v.cause,
      confidence: v.confidence,
      reason: v.reason,
      micros: w.t,
      dyno: r.dyno,
      method: r.method,
      path: r.path.length > 2048 ? r.path.slice(0, 2048) : r.path,
      route: normaliseRoute(r.path),
      requestId: r.requestId,
      serviceMs: r.serviceMs,
      status: r.status,
      bytes: r.bytes,
      protocol: r.protocol,
      line,
      evidence: proof,
      frames,
      guardOnly: false,
    };
    this.aggregate.add(d);
    this.onDiagnosis?.(d);
  }

  /** A guard line whose router line never came (app-side logs only). */
  private expireGuard(id: string): void {
    const g = this.guards.get(id);
    if (g === undefined) return;
    this.guards.delete(id);
    const frames = g.stack
      .split('\n')
      .map((l) => frameKey(l.startsWith(' ') ? l : `    ${l}`))
      .filter((f): f is string => f !== null)
      .slice(0, 8);
    const d: Diagnosis = {
      code: g.code,
      cause: guardCause(g.evidence.detail),
      confidence: 'high',
      reason: `the guard logged cause "${g.evidence.detail}" (no router line for this request id in the input)`,
      micros: g.evidence.micros,
      dyno: g.evidence.process,
      method: g.method,
      path: g.path,
      route: normaliseRoute(g.path),
      requestId: g.requestId,
      serviceMs: null,
      status: null,
      bytes: null,
      protocol: null,
      line: g.evidence.line,
      evidence: [g.evidence],
      frames,
      guardOnly: true,
    };
    this.timeline.addError(d.micros, d.code);
    this.aggregate.add(d);
    this.onDiagnosis?.(d);
  }

  /** End of input: decide everything still waiting. */
  finish(): AnalysisResult {
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const p = this.queue[i] as Pending;
      if (!p.done) this.finalize(p);
    }
    this.queue.length = 0;
    this.queueHead = 0;
    for (const id of [...this.guards.keys()]) this.expireGuard(id);
    return { stats: this.stats, aggregate: this.aggregate, timeline: this.timeline };
  }
}

/** An app line as evidence (a stack line, a worker timeout, out of memory), or null. */
function appEvidence(
  process: string,
  micros: number,
  raw: string,
  chunkMessage: string,
): Evidence | null {
  const c = classifyApp(chunkMessage);
  if (c === null) return null;
  const message = detach(chunkMessage);
  return {
    kind: c.kind,
    micros,
    process,
    line: detach(raw),
    message,
    detail: c.kind === 'stack' ? (frameKey(message) ?? 'error') : detach(c.detail, 200),
  };
}

function framesOf(proof: readonly Evidence[]): string[] {
  const frames: string[] = [];
  for (const e of proof) {
    if (e.kind === 'stack' && e.detail !== 'error' && !frames.includes(e.detail))
      frames.push(e.detail);
    if (e.kind === 'guard') {
      const stack = parseGuardLine(e.message)?.stack ?? '';
      for (const l of stack.split('\n')) {
        const f = frameKey(l.startsWith(' ') ? l : `    ${l}`);
        if (f !== null && !frames.includes(f)) frames.push(f);
      }
    }
  }
  return frames.slice(0, 8);
}

function parseGuardFields(message: string): { method: string; path: string } {
  const method = /(?:^| )method=(\S+)/.exec(message)?.[1] ?? '';
  const quoted = /(?:^| )path="((?:[^"\\]|\\.)*)"/.exec(message)?.[1];
  const path = quoted ?? /(?:^| )path=(\S+)/.exec(message)?.[1] ?? '';
  return { method, path };
}
