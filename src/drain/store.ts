/**
 * What the drain keeps, behind one interface: SQLite (sqlite-store.ts) now, PostgreSQL later
 * with the same schema (schema.ts). Methods return promises so an asynchronous store fits;
 * `ingest` resolves only once the batch is committed, which is what makes a 2xx a promise
 * that the lines survive a crash.
 */

import type { DiagnosisJson } from '../analyze/report.js';

/** One line as stored: the text the analyzer reads, its log time when known. */
export interface IngestLine {
  readonly text: string;
  /** Epoch microseconds from the line's own timestamp, or null when it has none we read. */
  readonly micros: number | null;
  /** True for a `heroku[router]` line (counted per minute as traffic). */
  readonly router: boolean;
}

export interface PlatformError {
  readonly code: string;
  readonly process: string;
  readonly micros: number | null;
  readonly line: string;
}

export interface BadSample {
  /** The counter it was counted under (malformed-frame, invalid-utf8...). */
  readonly kind: string;
  /** Escaped and cut: safe to show anywhere. */
  readonly sample: string;
}

export interface IngestBatch {
  readonly app: string;
  /** Logplex-Frame-Id (or the sender's idempotency key); null when the sender gave none. */
  readonly frameId: string | null;
  readonly token: string | null;
  readonly receivedMs: number;
  readonly lines: readonly IngestLine[];
  readonly platformErrors: readonly PlatformError[];
  /** Per-app counters to add (frames, malformed-frame, invalid-utf8, oversized-line...). */
  readonly counters: Readonly<Record<string, number>>;
  readonly samples: readonly BadSample[];
}

export interface IngestResult {
  /** False when the same app sent this Frame-Id before: nothing was stored again. */
  readonly stored: boolean;
  /** Id of the first line stored (lines get consecutive ids), when stored. */
  readonly firstLineId: number | null;
}

export interface StoredDiagnosis {
  /** Identifies the diagnosis by its router line, so replays do not store it twice. */
  readonly key: string;
  readonly micros: number;
  readonly json: DiagnosisJson;
}

export interface AppSummary {
  readonly name: string;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly counters: Record<string, number>;
  readonly diagnoses: number;
  readonly byCode: Record<string, number>;
  readonly platformErrors: Record<string, number>;
  readonly drainTokens: string[];
  /** The latest bad-input samples, newest first. */
  readonly badInput: Array<{ kind: string; time: string; sample: string }>;
}

export interface StoredLine {
  readonly id: number;
  readonly app: string;
  readonly receivedMs: number;
  readonly line: string;
}

export interface AppDiagnosis extends DiagnosisJson {
  readonly app: string;
}

export interface RequestTrail {
  readonly requestId: string;
  readonly diagnoses: AppDiagnosis[];
  readonly lines: Array<{ app: string; time: string | null; line: string }>;
  /** Where raw lines were searched: around each diagnosis (or the time given), or the latest lines. */
  readonly searched: { readonly around: string[]; readonly latestLines: number };
}

export interface RequestQuery {
  readonly requestId: string;
  /** Epoch microseconds to search raw lines around, besides the diagnoses' own times. */
  readonly aroundMicros: number | null;
  readonly limit: number;
}

/** A diagnosis as the pages show it: its app and its key (the id in its page's URL). */
export interface KeyedDiagnosis {
  readonly app: string;
  readonly key: string;
  readonly json: DiagnosisJson;
}

/** A diagnosis stored for the first time (not a replay of one already kept). */
export interface NewDiagnosis extends KeyedDiagnosis {
  readonly micros: number;
  /** First time this app has a diagnosis with this cause on this route (within the retention). */
  readonly newCauseRoute: boolean;
}

/** One row of the per-minute counts (kind: diagnosis, platform or requests). */
export interface CountRow {
  readonly minute: number;
  readonly kind: string;
  readonly code: string;
  readonly cause: string;
  readonly route: string;
  readonly n: number;
}

export interface StoredPlatformError {
  readonly time: string | null;
  readonly code: string;
  readonly process: string;
  readonly line: string;
}

export interface RetentionMs {
  /** Diagnoses, counts, platform errors and samples older than this are deleted. */
  readonly dataMs: number;
  /** Raw lines (and the request ids pointing at them) older than this are deleted. */
  readonly linesMs: number;
  /** How long a Frame-Id is remembered to spot a retried batch. */
  readonly frameIdsMs: number;
}

/** How far from a diagnosis's router line the lines of its request are looked for. */
export const REQUEST_WINDOW_MS = 2 * 60_000;
/** Lines scanned, newest first, when there is no time to search around. */
export const REQUEST_SCAN_LINES = 200_000;

export interface Store {
  readonly kind: string;
  /**
   * Batches committed in one transaction (group commit: one fsync for all the requests that
   * arrived while the previous commit ran), results in the same order. All or none.
   */
  ingestMany(batches: readonly IngestBatch[]): Promise<IngestResult[]>;
  /** How many `ingestMany` calls group-commit.ts may have running at once (default 1). */
  readonly commitsInFlight?: number;
  /** Stores the diagnoses not stored before, with their counts; resolves with how many were new. */
  addDiagnoses(app: string, items: readonly StoredDiagnosis[]): Promise<number>;
  /** As addDiagnoses, resolving with the diagnoses that were new, in order. */
  addDiagnosesNew(app: string, items: readonly StoredDiagnosis[]): Promise<NewDiagnosis[]>;
  /** An app's latest diagnoses, newest first. */
  latestDiagnoses(app: string, limit: number): Promise<KeyedDiagnosis[]>;
  diagnosisByKey(app: string, key: string): Promise<KeyedDiagnosis | undefined>;
  /** An app's per-minute counts for the `minutes` minutes ending at the newest one counted. */
  appCounts(app: string, minutes: number): Promise<{ endMinute: number | null; rows: CountRow[] }>;
  /** Counts of one app between two minutes (inclusive), for error rates over a window. */
  countsBetween(app: string, fromMinute: number, toMinute: number): Promise<CountRow[]>;
  recentPlatformErrors(app: string, limit: number): Promise<StoredPlatformError[]>;
  /** Counts a rejected request (413, 415, 429...) against an app. */
  countRejected(app: string, counter: string, nowMs: number): Promise<void>;
  apps(): Promise<AppSummary[]>;
  hasApp(app: string): Promise<boolean>;
  appCount(): Promise<number>;
  diagnoses(app: string, sinceMicros: number, limit: number): Promise<AppDiagnosis[]>;
  /**
   * A request id followed: its diagnoses (indexed), and the raw lines that contain it within
   * `REQUEST_WINDOW_MS` of each diagnosis or of `aroundMicros`; with neither, among the
   * latest `REQUEST_SCAN_LINES` lines.
   */
  request(query: RequestQuery): Promise<RequestTrail>;
  /** Lines an app sent since `sinceMs` (arrival time), oldest first, at most `limit` of the newest. */
  recentLines(app: string, sinceMs: number, limit: number): Promise<StoredLine[]>;
  /** Apps that sent anything since `sinceMs`. */
  activeApps(sinceMs: number): Promise<string[]>;
  prune(nowMs: number, retention: RetentionMs): Promise<Record<string, number>>;
  /** A web session ended by a logout, remembered until `expiresMs`. */
  revokeSession(nonce: string, expiresMs: number): Promise<void>;
  /** The sessions ended by a logout that have not expired by `nowMs`. */
  revokedSessions(nowMs: number): Promise<string[]>;
  /** Whether one session was ended by a logout (asked on every valid cookie: one key lookup). */
  sessionRevoked(nonce: string): Promise<boolean>;
  getSetting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;
  /**
   * Stores `value` unless the key has one already; resolves with the value kept. Several
   * processes starting together on a new database (several dynos) all end up with the same
   * generated password hash and session key.
   */
  settingOnce(key: string, value: string): Promise<string>;
  close(): Promise<void>;
}
