/**
 * One Analyzer per app, fed line by line as `h13 analyze --follow` feeds its one: lines go in
 * as they are stored, and a wall-clock tick decides the errors whose evidence window has
 * passed (Analyzer.flushWall). The analyzer bounds its own memory (src/analyze/limits.ts);
 * an app silent for `idleMs` has its analysis finished and dropped, so memory follows the
 * apps that are sending, not every app ever seen.
 *
 * Diagnoses are keyed by their router line: after a restart the recent stored lines are fed
 * again (server.ts), and a diagnosis made twice is stored once.
 */

import { createHash } from 'node:crypto';
import { Analyzer } from '../analyze/analyzer.js';
import { diagnosisJson } from '../analyze/report.js';
import type { Diagnosis } from '../analyze/types.js';
import type { StoredDiagnosis } from './store.js';

export interface AnalysesOptions {
  readonly windowMs: number;
  readonly idleMs: number;
  /** Diagnoses made by one feed or tick, in order. */
  readonly onDiagnoses: (app: string, items: StoredDiagnosis[]) => void;
  /**
   * The analyzer threw (a bug in it, met on some input): that app's analysis starts afresh
   * with its next lines; the lines are stored whatever happens here.
   */
  readonly onError: (app: string, err: unknown) => void;
}

/**
 * Where ingest hands the lines it stored. AppAnalyses itself when one process analyses
 * everything (SQLite); with PostgreSQL, a wake-up of the loop that reads the lines of the apps
 * this process holds (pg-analysis.ts).
 */
export interface AnalysisFeed {
  feed(app: string, lines: readonly string[]): void;
}

interface AppAnalysis {
  readonly analyzer: Analyzer;
  lastFedMs: number;
  readonly out: StoredDiagnosis[];
}

export function diagnosisKey(d: Diagnosis): string {
  return createHash('sha256').update(`${d.micros}\n${d.line}`).digest('base64url');
}

export class AppAnalyses implements AnalysisFeed {
  private readonly apps = new Map<string, AppAnalysis>();

  constructor(private readonly options: AnalysesOptions) {}

  get size(): number {
    return this.apps.size;
  }

  private entry(app: string, nowMs: number): AppAnalysis {
    let e = this.apps.get(app);
    if (e === undefined) {
      const out: StoredDiagnosis[] = [];
      e = {
        analyzer: new Analyzer({
          windowMs: this.options.windowMs,
          onDiagnosis: (d) =>
            out.push({ key: diagnosisKey(d), micros: d.micros, json: diagnosisJson(d) }),
        }),
        lastFedMs: nowMs,
        out,
      };
      this.apps.set(app, e);
    }
    return e;
  }

  feed(app: string, lines: readonly string[], nowMs: number = Date.now()): void {
    if (lines.length === 0) return;
    const e = this.entry(app, nowMs);
    e.lastFedMs = nowMs;
    this.guarded(app, e, () => e.analyzer.pushText(lines.join('\n')));
  }

  /** Decides what waited a window of wall time; finishes and drops idle apps. */
  tick(nowMs: number = Date.now()): void {
    for (const [app, e] of this.apps) {
      this.guarded(app, e, () => {
        e.analyzer.flushWall(nowMs);
        if (nowMs - e.lastFedMs >= this.options.idleMs) {
          e.analyzer.finish();
          this.apps.delete(app);
        }
      });
    }
  }

  /**
   * Forgets an app's analysis without deciding what it holds: another process has taken the
   * app over (its lock was lost) and decides those errors from the stored lines.
   */
  drop(app: string): void {
    this.apps.delete(app);
  }

  /** Shutdown: every pending error decided now. */
  finishAll(): void {
    for (const [app, e] of this.apps) this.guarded(app, e, () => e.analyzer.finish());
    this.apps.clear();
  }

  private guarded(app: string, e: AppAnalysis, work: () => void): void {
    try {
      work();
    } catch (err) {
      this.apps.delete(app);
      this.options.onError(app, err);
    }
    this.emit(app, e);
  }

  private emit(app: string, e: AppAnalysis): void {
    if (e.out.length === 0) return;
    this.options.onDiagnoses(app, e.out.splice(0));
  }
}
