/**
 * The streaming core. Lines go in (any supported format, in any mix); each router error is
 * held for a short window of log time while evidence arrives, then decided and handed to
 * `onDiagnosis`. The parts, each bounded (limits.ts):
 *   line-reader.ts      lines → router errors, platform lines, app lines (and input stats)
 *   dyno-rings.ts       the recent app lines of each web dyno
 *   event-ring.ts       dyno-manager events, releases, crash-time stack snapshots
 *   unmatched-guards.ts guard lines waiting for their router line
 *   pending-errors.ts   router errors waiting for their evidence window
 *   diagnosis-build.ts  a decided error as a Diagnosis (rules in diagnose.ts)
 * This module routes each kind of line to the parts that keep or use it.
 */

import type { RouterRecord } from '../core/router-line.js';
import { describeAccess, parseAccessLine } from './access-line.js';
import { Aggregate } from './aggregate.js';
import { diagnosisOf, guardOnlyDiagnosis } from './diagnosis-build.js';
import { DynoRings } from './dyno-rings.js';
import { EventRing } from './event-ring.js';
import {
  type Classified,
  classifyApi,
  classifyDynoManager,
  detach,
  type Evidence,
  type EvidenceKind,
  parseGuardLine,
  platformErrorCode,
} from './evidence.js';
import { UNNAMED_PROCESS } from './formats/access.js';
import { LIMITS } from './limits.js';
import { LineReader, type LineSink } from './line-reader.js';
import { PendingErrors } from './pending-errors.js';
import { isPlatformCode, platformDiagnosis } from './platform-errors.js';
import { ProcessEpochs } from './process-epochs.js';
import { RouteCounts } from './route-counts.js';
import { Timeline } from './timeline.js';
import { type Diagnosis, emptyStats, type InputStats } from './types.js';
import { guardRequest, UnmatchedGuards } from './unmatched-guards.js';

export { LIMITS } from './limits.js';

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

export interface AnalysisResult {
  readonly stats: InputStats;
  readonly aggregate: Aggregate;
  readonly timeline: Timeline;
  readonly routes: RouteCounts;
}

/** Events drawn on the timeline (for a web dyno, or a release). */
const MARKER_KINDS = new Set<EvidenceKind>([
  'release',
  'sigterm',
  'restart',
  'crash',
  'boot-failure',
  'memory',
  'exit',
  'kill',
]);

function isWeb(process: string): boolean {
  return process.startsWith('web');
}

export class Analyzer implements LineSink {
  readonly stats: InputStats = emptyStats();
  readonly aggregate = new Aggregate();
  readonly timeline = new Timeline();
  /** Requests per route, for error rates. */
  readonly routes = new RouteCounts();

  private readonly reorderUs: number;
  private readonly onDiagnosis: ((d: Diagnosis) => void) | undefined;
  private readonly reader: LineReader;
  private readonly rings: DynoRings;
  private readonly events = new EventRing(LIMITS.events);
  private readonly guards: UnmatchedGuards;
  private readonly errors: PendingErrors;
  /** Each dyno's last `Starting process with command ...` (bounded like the name table). */
  private readonly starts = new Map<string, Evidence>();
  /** Where each dyno's processes began and ended: evidence never crosses a restart. */
  private readonly epochs = new ProcessEpochs();

  constructor(options: AnalyzerOptions = {}) {
    const windowMs = options.windowMs ?? 5000;
    this.reorderUs = (options.reorderMs ?? 2000) * 1000;
    this.onDiagnosis = options.onDiagnosis;
    this.reader = new LineReader(
      this.stats,
      this.timeline,
      this.routes,
      this,
      options.nowMs ?? Date.now(),
    );
    this.rings = new DynoRings(this.reorderUs);
    this.guards = new UnmatchedGuards(windowMs * 1000, (g) => {
      const d = guardOnlyDiagnosis(g);
      this.timeline.addError(d.micros, d.code);
      this.report(d);
    });
    this.errors = new PendingErrors(this.rings, this.events, this.guards, {
      windowMs,
      reorderUs: this.reorderUs,
      maxPending: options.maxPending ?? LIMITS.pending,
      onDecided: (r, w, line, ev, releases) => this.report(diagnosisOf(r, w, line, ev, releases)),
      onForcedEarly: () => {
        this.stats.forcedEarly++;
      },
      startOf: (dyno) => this.starts.get(dyno),
      epochs: this.epochs,
    });
  }

  /** Complete lines separated by `\n` (a final line without `\n` is taken as complete). */
  pushText(text: string): void {
    this.reader.pushText(text);
    this.settle();
  }

  /** Complete lines in `buf[from, to)`, each ending at `\n` (the last one may lack it). */
  pushBytes(buf: Buffer, from: number, to: number): void {
    this.reader.pushBytes(buf, from, to);
    this.settle();
  }

  /** A line longer than the cap, skipped unread. `head` is its beginning, for the sample. */
  pushOversized(head: string, length: number): void {
    this.reader.pushOversized(head, length);
  }

  /** Follow mode: decide errors that have waited `window` of wall time, whatever the logs say. */
  flushWall(nowWall: number = Date.now()): void {
    this.reader.flushWall(nowWall);
    this.errors.flushWall(nowWall);
    this.settle();
  }

  get pending(): number {
    return this.errors.count;
  }

  /** End of input: decide everything still waiting. */
  finish(): AnalysisResult {
    this.reader.flush();
    this.errors.decideAll();
    this.guards.expireAll();
    return {
      stats: this.stats,
      aggregate: this.aggregate,
      timeline: this.timeline,
      routes: this.routes,
    };
  }

  routerError(r: RouterRecord, micros: number, rawLine: string): void {
    this.stats.routerErrors++;
    const t = Number.isNaN(micros) ? this.reader.watermark : micros;
    this.timeline.addError(t, r.code as string);
    this.errors.open(r, t, detach(rawLine));
  }

  platformLine(process: string, micros: number, raw: string, offset: number): void {
    const message = raw.slice(offset);
    const c = process === 'api' ? classifyApi(message) : classifyDynoManager(message);
    const code = platformErrorCode(message);
    if (code !== null && isPlatformCode(code)) {
      this.stats.platformErrors++;
      this.report(
        platformDiagnosis(code, {
          kind: c?.kind ?? 'crash',
          micros,
          process,
          line: detach(raw),
          message: detach(message),
          detail: code,
        }),
      );
    }
    if (c !== null) this.event(c, process, micros, raw, message);
    // The platform writes a request's id on a dyno's line now and then (`heroku[web.1]:
    // request_id=... `, before a segfault): kept with the dyno's lines, where ids are looked for.
    if (isWeb(process) && message.includes('request_id=')) {
      const ring = this.rings.ringFor(process);
      this.errors.offerLine(process, ring, ring.push(micros, raw, offset, false));
    }
  }

  appLine(process: string, micros: number, raw: string, offset: number, plainHead: boolean): void {
    if (process === 'api') {
      const message = raw.slice(offset);
      const c = classifyApi(message);
      if (c !== null) this.event(c, process, micros, raw, message);
      return;
    }
    if (raw.startsWith('at=', offset) && raw.includes('code=H', offset)) {
      if (this.guardLine(process, micros, raw, raw.slice(offset))) return;
    }
    if (process === UNNAMED_PROCESS) {
      this.unnamedLine(micros, raw, offset);
      return;
    }
    if (!isWeb(process)) return;
    const ring = this.rings.ringFor(process);
    const t = Number.isNaN(micros) ? this.reader.watermark : micros;
    const slot = ring.push(t, raw, offset, plainHead);
    this.errors.offerLine(process, ring, slot);
  }

  /** A line of no named dyno (an access line pasted alone): matched by method and path. */
  private unnamedLine(micros: number, raw: string, offset: number): void {
    const message = raw.slice(offset);
    const access = parseAccessLine(message);
    if (access === null) return;
    const detached = detach(message);
    this.errors.offerUnnamedAccess({
      kind: 'access',
      micros: Number.isNaN(micros) ? this.reader.watermark : micros,
      process: UNNAMED_PROCESS,
      line: detach(raw),
      message: detached,
      detail: describeAccess(access),
      access,
    });
  }

  /** The guard's line: evidence for its waiting error, or kept until its error comes. */
  private guardLine(process: string, micros: number, raw: string, chunkMessage: string): boolean {
    const message = detach(chunkMessage, 16_384);
    const g = parseGuardLine(message);
    if (g === null) return false;
    const evidence: Evidence = {
      kind: 'guard',
      micros: Number.isNaN(micros) ? this.reader.watermark : micros,
      process,
      line: detach(raw),
      message,
      detail: g.cause || g.step || g.code,
    };
    if (this.errors.offerGuard(g.requestId, evidence)) return true;
    this.guards.add({
      evidence,
      code: g.code,
      requestId: g.requestId,
      ...guardRequest(message),
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
    const t = Number.isNaN(micros) ? this.reader.watermark : micros;
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
    if (c.kind === 'start' && (this.starts.size < 4096 || this.starts.has(process)))
      this.starts.set(process, e);
    this.epochs.note(process, c.kind, t);
    if (c.kind === 'crash' || c.kind === 'exit' || c.kind === 'boot-failure') {
      for (const line of this.rings.crashSnapshot(process, t)) this.events.push(line);
    }
    this.events.push(e);
    this.errors.offerNewEvent(e);
  }

  /** Decide what is due: errors whose window has passed in log time, expired guard lines. */
  private settle(): void {
    const due = this.reader.watermark - this.reorderUs;
    this.errors.settle(due);
    this.guards.expireDue(due);
  }

  private report(d: Diagnosis): void {
    // A router line's request, counted under its route (platform errors and guard-only
    // diagnoses have no router line).
    if (!d.guardOnly && d.method !== '' && !isPlatformCode(d.code)) this.routes.countRoute(d.route);
    this.aggregate.add(d);
    this.onDiagnosis?.(d);
  }
}
