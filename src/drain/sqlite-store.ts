/**
 * The embedded store: one SQLite file through node:sqlite. WAL journal with
 * `synchronous=FULL`: a commit is on disk before `ingest` returns, so a batch answered 2xx
 * survives `kill -9` (WAL alone with NORMAL would survive a killed process but not a power
 * cut). node:sqlite is synchronous: each call runs on the event loop, which keeps the
 * check-then-insert of a Frame-Id atomic within the process.
 */

import { H13Error } from '../core/errors.js';
import { MIGRATIONS, migrationSql } from './schema.js';
import { openSqlite, type SqliteDatabase, type SqliteStatement, type SqlValue } from './sqlite.js';
import type {
  AppDiagnosis,
  AppSummary,
  CountRow,
  IngestBatch,
  IngestResult,
  KeyedDiagnosis,
  NewDiagnosis,
  RequestQuery,
  RequestTrail,
  RetentionMs,
  Store,
  StoredDiagnosis,
  StoredLine,
  StoredPlatformError,
} from './store.js';
import {
  appSummaries,
  countRow,
  diagnosisBody,
  followRequest,
  num,
  platformErrorRow,
  storedText,
} from './store-rows.js';

/** Bad-input samples and drain tokens kept per app. */
const SAMPLES_PER_APP = 20;
const TOKENS_PER_APP = 8;
/** Rows deleted per statement when pruning, so one prune never holds the lock for long. */
const PRUNE_CHUNK = 5000;
/**
 * Lines inserted per statement: one statement of many rows crosses from JS into SQLite once
 * instead of once per row. 64 rows bind 130 parameters, far below SQLite's limit (32 766).
 */
export const LINES_PER_INSERT = 64;

/** `INSERT INTO lines` of `rows` rows; app and received_ms are bound once (?1, ?2). */
function insertLinesSql(rows: number): string {
  const values: string[] = [];
  for (let i = 0; i < rows; i++) values.push(`(?1, ?2, ?${3 + 2 * i}, ?${4 + 2 * i})`);
  return `INSERT INTO lines (app, received_ms, micros, line) VALUES ${values.join(', ')}`;
}

const minuteOfMs = (ms: number): number => Math.floor(ms / 60_000);

export function openSqliteStore(path: string): Store {
  const db = openSqlite(path);
  try {
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
    db.exec('PRAGMA busy_timeout = 5000');
    migrate(db);
  } catch (err) {
    db.close();
    if (err instanceof H13Error) throw err;
    throw new H13Error('H13_ERR_STORE', `cannot prepare ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return new SqliteStore(db);
}

function migrate(db: SqliteDatabase): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_ms BIGINT NOT NULL, why TEXT NOT NULL)',
  );
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get();
  const current = row?.v === null || row?.v === undefined ? 0 : num(row.v);
  const newest = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
  if (current > newest) {
    throw new H13Error(
      'H13_ERR_STORE',
      `the database is at schema version ${current}, newer than this h13 knows (${newest}): upgrade h13`,
    );
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const sql of migrationSql(m, 'sqlite')) db.exec(sql);
      db.prepare('INSERT INTO schema_version (version, applied_ms, why) VALUES (?, ?, ?)').run(
        m.version,
        Date.now(),
        m.why,
      );
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw new H13Error(
        'H13_ERR_STORE',
        `migration ${m.version} failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}

function prepareStatements(db: SqliteDatabase) {
  const p = (sql: string): SqliteStatement => db.prepare(sql);
  return {
    upsertApp: p(
      'INSERT INTO apps (name, first_seen_ms, last_seen_ms) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET last_seen_ms = excluded.last_seen_ms',
    ),
    findBatch: p('SELECT 1 AS x FROM batches WHERE app = ? AND frame_id = ?'),
    addBatch: p('INSERT INTO batches (app, frame_id, received_ms, lines) VALUES (?, ?, ?, ?)'),
    addCounter: p(
      'INSERT INTO app_counters (app, counter, value) VALUES (?, ?, ?) ON CONFLICT (app, counter) DO UPDATE SET value = app_counters.value + excluded.value',
    ),
    addToken: p(
      'INSERT INTO app_tokens (app, token, last_seen_ms) VALUES (?, ?, ?) ON CONFLICT (app, token) DO UPDATE SET last_seen_ms = excluded.last_seen_ms',
    ),
    trimTokens: p(
      'DELETE FROM app_tokens WHERE app = ? AND token NOT IN (SELECT token FROM app_tokens WHERE app = ? ORDER BY last_seen_ms DESC LIMIT ?)',
    ),
    addSample: p('INSERT INTO samples (app, received_ms, kind, sample) VALUES (?, ?, ?, ?)'),
    trimSamples: p(
      'DELETE FROM samples WHERE app = ? AND id <= (SELECT id FROM samples WHERE app = ? ORDER BY id DESC LIMIT 1 OFFSET ?)',
    ),
    addCount: p(
      'INSERT INTO counts (app, minute, kind, code, cause, route, n) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (app, minute, kind, code, cause, route) DO UPDATE SET n = counts.n + excluded.n',
    ),
    addPlatform: p(
      'INSERT INTO platform_errors (app, received_ms, micros, code, process, line) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    addDiagnosis: p(
      'INSERT INTO diagnoses (app, dkey, micros, code, cause, route, request_id, stored_ms, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (app, dkey) DO NOTHING',
    ),
    seenCauseRoute: p(
      'UPDATE cause_routes SET last_ms = ? WHERE app = ? AND cause = ? AND route = ?',
    ),
    addCauseRoute: p(
      'INSERT INTO cause_routes (app, cause, route, first_micros, first_ms, last_ms) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    hasApp: p('SELECT 1 AS x FROM apps WHERE name = ?'),
    appCount: p('SELECT COUNT(*) AS n FROM apps'),
    getSetting: p('SELECT value FROM settings WHERE key = ?'),
    sessionRevoked: p('SELECT 1 AS x FROM revoked_sessions WHERE nonce = ?'),
    setSetting: p(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
  };
}

class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly s: ReturnType<typeof prepareStatements>;
  /** Multi-row line inserts by row count, prepared when first needed. */
  private readonly lineInserts = new Map<number, SqliteStatement>();
  private closed = false;

  constructor(private readonly db: SqliteDatabase) {
    this.s = prepareStatements(db);
  }

  private tx<T>(work: () => T): T {
    if (this.closed) throw new H13Error('H13_ERR_STORE', 'the store is closed');
    this.db.exec('BEGIN IMMEDIATE');
    let result: T;
    try {
      result = work();
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw new H13Error('H13_ERR_STORE', `write failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.db.exec('COMMIT');
    return result;
  }

  async ingestMany(batches: readonly IngestBatch[]): Promise<IngestResult[]> {
    return this.tx(() => batches.map((b) => this.ingestOne(b)));
  }

  private ingestOne(b: IngestBatch): IngestResult {
    const s = this.s;
    {
      s.upsertApp.run(b.app, b.receivedMs, b.receivedMs);
      if (b.frameId !== null) {
        if (s.findBatch.get(b.app, b.frameId) !== undefined) {
          s.addCounter.run(b.app, 'duplicate-batches', 1);
          return { stored: false, firstLineId: null };
        }
        s.addBatch.run(b.app, b.frameId, b.receivedMs, b.lines.length);
      }
      if (b.token !== null) {
        s.addToken.run(b.app, b.token, b.receivedMs);
        s.trimTokens.run(b.app, b.app, TOKENS_PER_APP);
      }
      s.addCounter.run(b.app, 'batches', 1);
      s.addCounter.run(b.app, 'lines', b.lines.length);
      for (const [counter, n] of Object.entries(b.counters))
        if (n > 0) s.addCounter.run(b.app, counter, n);
      for (const x of b.samples) s.addSample.run(b.app, b.receivedMs, x.kind, storedText(x.sample));
      if (b.samples.length > 0) s.trimSamples.run(b.app, b.app, SAMPLES_PER_APP);
      const firstLineId = this.insertLines(b);
      const traffic = new Map<number, number>();
      for (const line of b.lines) {
        if (line.router) {
          const minute =
            line.micros === null ? minuteOfMs(b.receivedMs) : Math.floor(line.micros / 60e6);
          traffic.set(minute, (traffic.get(minute) ?? 0) + 1);
        }
      }
      for (const [minute, n] of traffic) s.addCount.run(b.app, minute, 'requests', '', '', '', n);
      for (const e of b.platformErrors) {
        s.addPlatform.run(
          b.app,
          b.receivedMs,
          e.micros,
          e.code,
          storedText(e.process),
          storedText(e.line),
        );
        const minute = e.micros === null ? minuteOfMs(b.receivedMs) : Math.floor(e.micros / 60e6);
        s.addCount.run(b.app, minute, 'platform', e.code, '', '', 1);
      }
      return { stored: true, firstLineId };
    }
  }

  /** The batch's lines, LINES_PER_INSERT rows per statement; the first line's id. */
  private insertLines(b: IngestBatch): number | null {
    let firstLineId: number | null = null;
    const lines = b.lines;
    for (let at = 0; at < lines.length; at += LINES_PER_INSERT) {
      const rows = Math.min(LINES_PER_INSERT, lines.length - at);
      let stmt = this.lineInserts.get(rows);
      if (stmt === undefined) {
        stmt = this.db.prepare(insertLinesSql(rows));
        this.lineInserts.set(rows, stmt);
      }
      const params: SqlValue[] = [b.app, b.receivedMs];
      for (let i = at; i < at + rows; i++) {
        const line = lines[i] as IngestBatch['lines'][number];
        params.push(line.micros, storedText(line.text));
      }
      const lastId = num(stmt.run(...params).lastInsertRowid);
      // The rows of one statement take consecutive rowids (INTEGER PRIMARY KEY: max + 1).
      firstLineId ??= lastId - rows + 1;
    }
    return firstLineId;
  }

  async addDiagnoses(app: string, items: readonly StoredDiagnosis[]): Promise<number> {
    return (await this.addDiagnosesNew(app, items)).length;
  }

  async addDiagnosesNew(app: string, items: readonly StoredDiagnosis[]): Promise<NewDiagnosis[]> {
    if (items.length === 0) return [];
    const s = this.s;
    const now = Date.now();
    return this.tx(() => {
      s.upsertApp.run(app, now, now);
      const added: NewDiagnosis[] = [];
      for (const d of items) {
        const j = d.json;
        const r = s.addDiagnosis.run(
          app,
          d.key,
          d.micros,
          j.code,
          j.cause,
          j.route,
          j.requestId,
          now,
          JSON.stringify(j),
        );
        if (num(r.changes) === 0) continue;
        s.addCount.run(app, Math.floor(d.micros / 60e6), 'diagnosis', j.code, j.cause, j.route, 1);
        const seen = s.seenCauseRoute.run(now, app, j.cause, j.route);
        const newCauseRoute = num(seen.changes) === 0;
        if (newCauseRoute) s.addCauseRoute.run(app, j.cause, j.route, d.micros, now, now);
        added.push({ app, key: d.key, micros: d.micros, json: j, newCauseRoute });
      }
      return added;
    });
  }

  async latestDiagnoses(app: string, limit: number): Promise<KeyedDiagnosis[]> {
    return this.db
      .prepare(
        'SELECT dkey, body FROM diagnoses WHERE app = ? ORDER BY micros DESC, id DESC LIMIT ?',
      )
      .all(app, limit)
      .map((r) => ({
        app,
        key: r.dkey as string,
        json: diagnosisBody(r),
      }));
  }

  async diagnosisByKey(app: string, key: string): Promise<KeyedDiagnosis | undefined> {
    const r = this.db
      .prepare('SELECT body FROM diagnoses WHERE app = ? AND dkey = ?')
      .get(app, key);
    return r === undefined ? undefined : { app, key, json: diagnosisBody(r) };
  }

  async appCounts(
    app: string,
    minutes: number,
  ): Promise<{ endMinute: number | null; rows: CountRow[] }> {
    const top = this.db.prepare('SELECT MAX(minute) AS m FROM counts WHERE app = ?').get(app);
    if (top?.m === null || top?.m === undefined) return { endMinute: null, rows: [] };
    const end = num(top.m);
    return { endMinute: end, rows: await this.countsBetween(app, end - minutes + 1, end) };
  }

  async countsBetween(app: string, fromMinute: number, toMinute: number): Promise<CountRow[]> {
    return this.db
      .prepare(
        'SELECT minute, kind, code, cause, route, n FROM counts WHERE app = ? AND minute BETWEEN ? AND ? ORDER BY minute',
      )
      .all(app, fromMinute, toMinute)
      .map(countRow);
  }

  async recentPlatformErrors(app: string, limit: number): Promise<StoredPlatformError[]> {
    return this.db
      .prepare(
        'SELECT micros, code, process, line FROM platform_errors WHERE app = ? ORDER BY id DESC LIMIT ?',
      )
      .all(app, limit)
      .map(platformErrorRow);
  }

  async countRejected(app: string, counter: string, nowMs: number): Promise<void> {
    this.tx(() => {
      this.s.upsertApp.run(app, nowMs, nowMs);
      this.s.addCounter.run(app, counter, 1);
    });
  }

  async hasApp(app: string): Promise<boolean> {
    return this.s.hasApp.get(app) !== undefined;
  }

  async appCount(): Promise<number> {
    return num(this.s.appCount.get()?.n ?? 0);
  }

  async apps(): Promise<AppSummary[]> {
    const all = (sql: string) => this.db.prepare(sql).all();
    const samples = this.db.prepare(
      'SELECT kind, received_ms, sample FROM samples WHERE app = ? ORDER BY id DESC LIMIT ?',
    );
    return appSummaries({
      apps: all('SELECT name, first_seen_ms, last_seen_ms FROM apps ORDER BY name'),
      counters: all('SELECT app, counter AS k, value AS n FROM app_counters'),
      byCode: all('SELECT app, code AS k, COUNT(*) AS n FROM diagnoses GROUP BY app, code'),
      platform: all('SELECT app, code AS k, COUNT(*) AS n FROM platform_errors GROUP BY app, code'),
      tokens: all('SELECT app, token FROM app_tokens ORDER BY token'),
      samples: (app) => samples.all(app, SAMPLES_PER_APP),
    });
  }

  async diagnoses(app: string, sinceMicros: number, limit: number): Promise<AppDiagnosis[]> {
    return this.db
      .prepare(
        'SELECT body FROM diagnoses WHERE app = ? AND micros >= ? ORDER BY micros, id LIMIT ?',
      )
      .all(app, sinceMicros, limit)
      .map((r) => ({ app, ...diagnosisBody(r) }));
  }

  async request(q: RequestQuery): Promise<RequestTrail> {
    const around = this.db.prepare(
      'SELECT id, app, micros, line FROM lines WHERE app = ? AND micros BETWEEN ? AND ? AND instr(line, ?) > 0 ORDER BY micros, id LIMIT ?',
    );
    return followRequest(q, {
      diagnoses: async (id, limit) =>
        this.db
          .prepare(
            'SELECT app, micros, body FROM diagnoses WHERE request_id = ? ORDER BY micros, id LIMIT ?',
          )
          .all(id, limit),
      linesAround: async (app, from, to, text, limit) => around.all(app, from, to, text, limit),
      latestLines: async (scan, text, limit) =>
        this.db
          .prepare(
            'SELECT id, app, micros, line FROM (SELECT id, app, micros, line FROM lines ORDER BY id DESC LIMIT ?) WHERE instr(line, ?) > 0 ORDER BY id LIMIT ?',
          )
          .all(scan, text, limit),
      apps: () => this.activeApps(0),
    });
  }

  async recentLines(app: string, sinceMs: number, limit: number): Promise<StoredLine[]> {
    return this.db
      .prepare(
        'SELECT id, received_ms, line FROM lines WHERE app = ? AND received_ms >= ? ORDER BY id DESC LIMIT ?',
      )
      .all(app, sinceMs, limit)
      .reverse()
      .map((r) => ({
        id: num(r.id),
        app,
        receivedMs: num(r.received_ms),
        line: r.line as string,
      }));
  }

  async activeApps(sinceMs: number): Promise<string[]> {
    return this.db
      .prepare('SELECT name FROM apps WHERE last_seen_ms >= ? ORDER BY name')
      .all(sinceMs)
      .map((r) => r.name as string);
  }

  async prune(nowMs: number, retention: RetentionMs): Promise<Record<string, number>> {
    const lineCut = nowMs - retention.linesMs;
    const dataCut = nowMs - retention.dataMs;
    const out: Record<string, number> = {};
    const chunked = (name: string, sql: string, ...params: (number | string)[]) => {
      const stmt = this.db.prepare(sql);
      let total = 0;
      for (;;) {
        const n = this.tx(() => num(stmt.run(...params, PRUNE_CHUNK).changes));
        total += n;
        if (n < PRUNE_CHUNK) break;
      }
      out[name] = total;
    };
    const dropLines = this.db.prepare(
      'DELETE FROM lines WHERE id IN (SELECT id FROM lines WHERE app = ? AND received_ms < ? LIMIT ?)',
    );
    out.lines = 0;
    for (const app of await this.activeApps(0)) {
      for (;;) {
        const n = this.tx(() => num(dropLines.run(app, lineCut, PRUNE_CHUNK).changes));
        out.lines += n;
        if (n < PRUNE_CHUNK) break;
      }
    }
    chunked(
      'diagnoses',
      'DELETE FROM diagnoses WHERE id IN (SELECT id FROM diagnoses WHERE stored_ms < ? LIMIT ?)',
      dataCut,
    );
    chunked(
      'platform_errors',
      'DELETE FROM platform_errors WHERE id IN (SELECT id FROM platform_errors WHERE received_ms < ? LIMIT ?)',
      dataCut,
    );
    chunked(
      'samples',
      'DELETE FROM samples WHERE id IN (SELECT id FROM samples WHERE received_ms < ? LIMIT ?)',
      dataCut,
    );
    chunked(
      'counts',
      'DELETE FROM counts WHERE rowid IN (SELECT rowid FROM counts WHERE minute < ? LIMIT ?)',
      minuteOfMs(dataCut),
    );
    chunked(
      'revoked_sessions',
      'DELETE FROM revoked_sessions WHERE rowid IN (SELECT rowid FROM revoked_sessions WHERE expires_ms < ? LIMIT ?)',
      nowMs,
    );
    chunked(
      'cause_routes',
      'DELETE FROM cause_routes WHERE rowid IN (SELECT rowid FROM cause_routes WHERE last_ms < ? LIMIT ?)',
      dataCut,
    );
    chunked(
      'batches',
      'DELETE FROM batches WHERE rowid IN (SELECT rowid FROM batches WHERE received_ms < ? LIMIT ?)',
      nowMs - retention.frameIdsMs,
    );
    return out;
  }

  async revokeSession(nonce: string, expiresMs: number): Promise<void> {
    this.tx(() =>
      this.db
        .prepare(
          'INSERT INTO revoked_sessions (nonce, expires_ms) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING',
        )
        .run(nonce, expiresMs),
    );
  }

  async revokedSessions(nowMs: number): Promise<string[]> {
    return this.db
      .prepare('SELECT nonce FROM revoked_sessions WHERE expires_ms > ?')
      .all(nowMs)
      .map((r) => r.nonce as string);
  }

  async sessionRevoked(nonce: string): Promise<boolean> {
    return this.s.sessionRevoked.get(nonce) !== undefined;
  }

  async getSetting(key: string): Promise<string | undefined> {
    const r = this.s.getSetting.get(key);
    return r === undefined ? undefined : (r.value as string);
  }

  async setSetting(key: string, value: string): Promise<void> {
    this.tx(() => this.s.setSetting.run(key, value));
  }

  async settingOnce(key: string, value: string): Promise<string> {
    return this.tx(() => {
      const kept = this.s.getSetting.get(key);
      if (kept !== undefined) return kept.value as string;
      this.s.setSetting.run(key, value);
      return value;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
