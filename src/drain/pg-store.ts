/**
 * The shared store: PostgreSQL through node-postgres (`pg`), used when DATABASE_URL is set.
 * Same schema and migrations as SQLite (schema.ts). Several drain processes may share one
 * database: ingest is pg-ingest.ts; which process analyses an app is pg-analysis.ts, through
 * the reads at the end of this class (lines by per-app sequence, the analysis cursor).
 */

import pg from 'pg';
import { H13Error } from '../core/errors.js';
import { pgConnection, redactedUrl } from './pg-connect.js';
import { type PgIngested, pgIngestMany, pgLineText } from './pg-ingest.js';
import { migratePg } from './pg-migrate.js';
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
  type Row,
  storedText,
} from './store-rows.js';

const SAMPLES_PER_APP = 20;
const PRUNE_CHUNK = 5000;
const POOL_SIZE = 8;
/**
 * Ingest transactions one process runs at once (group-commit.ts). With one, the process idled
 * while each commit waited for the server's fsync (about half its time in a flood profile);
 * with several, one group's statements run while another's commit is flushed, and the
 * server runs them on more than one core. Four beat two in the same rounds (ingest.js, four
 * senders, load 3-4.5: 33 945 vs 27 682 lines/s, less CPU per line on both sides).
 */
const COMMITS_IN_FLIGHT = 4;

const minuteOfMs = (ms: number): number => Math.floor(ms / 60_000);

export async function openPgStore(databaseUrl: string): Promise<PgStore> {
  const { connectionString, ssl } = pgConnection(databaseUrl);
  const config = { connectionString, ssl };
  const pool = new pg.Pool({ ...config, max: POOL_SIZE });
  // The server processes of this pool's sessions: a NOTIFY one of them sent is this
  // process's own commit, of which the analysis already knows (pg-analysis.ts).
  const backends = new Set<number>();
  pool.on('connect', (client) => {
    const pid = (client as pg.Client & { processID?: number }).processID;
    if (pid !== undefined) backends.add(pid);
  });
  pool.on('remove', (client) => {
    const pid = (client as pg.Client & { processID?: number }).processID;
    if (pid !== undefined) backends.delete(pid);
  });
  // An idle client whose server went away emits here; without a listener it would crash.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    try {
      await migratePg(client);
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => {});
    if (err instanceof H13Error) throw err;
    throw new H13Error(
      'H13_ERR_STORE',
      `cannot open ${redactedUrl(databaseUrl)}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return new PgStore(pool, config, backends);
}

/** Lines this process committed: an app's lines from `firstSeq` on, as stored. */
export type CommittedLines = (
  app: string,
  firstSeq: number,
  receivedMs: number,
  lines: readonly string[],
) => void;

export class PgStore implements Store {
  readonly kind = 'postgres';
  readonly commitsInFlight = COMMITS_IN_FLIGHT;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    /** For the sessions that must be their own (advisory locks, LISTEN). */
    readonly clientConfig: pg.ClientConfig,
    /** Server process ids of the pool's sessions. */
    private readonly backends: ReadonlySet<number> = new Set(),
  ) {}

  /** Told of every batch's lines once committed (pg-analysis.ts feeds them without reading them back). */
  onCommitted: CommittedLines | undefined;

  /** Whether a NOTIFY came from one of this process's own sessions. */
  ownBackend(pid: number): boolean {
    return this.backends.has(pid);
  }

  private async q(sql: string, params: unknown[] = []): Promise<Row[]> {
    if (this.closed) throw new H13Error('H13_ERR_STORE', 'the store is closed');
    return (await this.pool.query(sql, params)).rows as Row[];
  }

  private async tx<T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new H13Error('H13_ERR_STORE', 'the store is closed');
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      try {
        const r = await work(c);
        await c.query('COMMIT');
        return r;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw new H13Error('H13_ERR_STORE', `write failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
    } finally {
      c.release();
    }
  }

  async ingestMany(batches: readonly IngestBatch[]): Promise<IngestResult[]> {
    if (this.closed) throw new H13Error('H13_ERR_STORE', 'the store is closed');
    const c = await this.pool.connect();
    let ingested: PgIngested;
    try {
      ingested = await pgIngestMany(c, batches);
    } catch (err) {
      throw new H13Error('H13_ERR_STORE', `write failed: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      c.release();
    }
    const told = this.onCommitted;
    if (told !== undefined)
      batches.forEach((b, i) => {
        const seq = ingested.firstSeqs[i];
        if (seq !== null && seq !== undefined)
          told(
            b.app,
            seq,
            b.receivedMs,
            b.lines.map((l) => pgLineText(l.text)),
          );
      });
    return ingested.results;
  }

  async addDiagnoses(app: string, items: readonly StoredDiagnosis[]): Promise<number> {
    return (await this.addDiagnosesNew(app, items)).length;
  }

  async addDiagnosesNew(app: string, items: readonly StoredDiagnosis[]): Promise<NewDiagnosis[]> {
    if (items.length === 0) return [];
    const now = Date.now();
    return this.tx(async (c) => {
      await c.query(
        'INSERT INTO apps (name, first_seen_ms, last_seen_ms) VALUES ($1, $2, $2) ON CONFLICT (name) DO NOTHING',
        [app, now],
      );
      const added: NewDiagnosis[] = [];
      for (const d of items) {
        const j = d.json;
        const r = await c.query(
          'INSERT INTO diagnoses (app, dkey, micros, code, cause, route, request_id, stored_ms, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (app, dkey) DO NOTHING',
          [
            app,
            d.key,
            d.micros,
            j.code,
            j.cause,
            j.route,
            j.requestId,
            now,
            storedText(JSON.stringify(j)),
          ],
        );
        if (r.rowCount === 0) continue;
        await c.query(
          'INSERT INTO counts (app, minute, kind, code, cause, route, n) VALUES ($1, $2, $3, $4, $5, $6, 1) ON CONFLICT (app, minute, kind, code, cause, route) DO UPDATE SET n = counts.n + 1',
          [app, Math.floor(d.micros / 60e6), 'diagnosis', j.code, j.cause, j.route],
        );
        const pair = await c.query<{ inserted: boolean }>(
          'INSERT INTO cause_routes (app, cause, route, first_micros, first_ms, last_ms) VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (app, cause, route) DO UPDATE SET last_ms = excluded.last_ms RETURNING (xmax = 0) AS inserted',
          [app, j.cause, j.route, d.micros, now],
        );
        const newCauseRoute = pair.rows[0]?.inserted === true;
        added.push({ app, key: d.key, micros: d.micros, json: j, newCauseRoute });
      }
      return added;
    });
  }

  async latestDiagnoses(app: string, limit: number): Promise<KeyedDiagnosis[]> {
    return (
      await this.q(
        'SELECT dkey, body FROM diagnoses WHERE app = $1 ORDER BY micros DESC, id DESC LIMIT $2',
        [app, limit],
      )
    ).map((r) => ({
      app,
      key: r.dkey as string,
      json: diagnosisBody(r),
    }));
  }

  async diagnosisByKey(app: string, key: string): Promise<KeyedDiagnosis | undefined> {
    const r = (
      await this.q('SELECT body FROM diagnoses WHERE app = $1 AND dkey = $2', [app, key])
    )[0];
    return r === undefined ? undefined : { app, key, json: diagnosisBody(r) };
  }

  async appCounts(
    app: string,
    minutes: number,
  ): Promise<{ endMinute: number | null; rows: CountRow[] }> {
    const top = (await this.q('SELECT MAX(minute) AS m FROM counts WHERE app = $1', [app]))[0];
    if (top?.m === null || top?.m === undefined) return { endMinute: null, rows: [] };
    const end = num(top.m);
    return { endMinute: end, rows: await this.countsBetween(app, end - minutes + 1, end) };
  }

  async countsBetween(app: string, fromMinute: number, toMinute: number): Promise<CountRow[]> {
    return (
      await this.q(
        'SELECT minute, kind, code, cause, route, n FROM counts WHERE app = $1 AND minute BETWEEN $2 AND $3 ORDER BY minute',
        [app, fromMinute, toMinute],
      )
    ).map(countRow);
  }

  async recentPlatformErrors(app: string, limit: number): Promise<StoredPlatformError[]> {
    return (
      await this.q(
        'SELECT micros, code, process, line FROM platform_errors WHERE app = $1 ORDER BY id DESC LIMIT $2',
        [app, limit],
      )
    ).map(platformErrorRow);
  }

  async countRejected(app: string, counter: string, nowMs: number): Promise<void> {
    await this.tx(async (c) => {
      await c.query(
        'INSERT INTO apps (name, first_seen_ms, last_seen_ms) VALUES ($1, $2, $2) ON CONFLICT (name) DO UPDATE SET last_seen_ms = GREATEST(apps.last_seen_ms, excluded.last_seen_ms)',
        [app, nowMs],
      );
      await c.query(
        'INSERT INTO app_counters (app, counter, value) VALUES ($1, $2, 1) ON CONFLICT (app, counter) DO UPDATE SET value = app_counters.value + 1',
        [app, counter],
      );
    });
  }

  async hasApp(app: string): Promise<boolean> {
    return (await this.q('SELECT 1 FROM apps WHERE name = $1', [app])).length > 0;
  }

  async appCount(): Promise<number> {
    return num((await this.q('SELECT COUNT(*) AS n FROM apps'))[0]?.n ?? 0);
  }

  async apps(): Promise<AppSummary[]> {
    const samples = new Map<string, Row[]>();
    for (const r of await this.q(
      'SELECT app, kind, received_ms, sample FROM (SELECT *, row_number() OVER (PARTITION BY app ORDER BY id DESC) AS k FROM samples) s WHERE k <= $1 ORDER BY app, id DESC',
      [SAMPLES_PER_APP],
    )) {
      const list = samples.get(r.app as string) ?? [];
      list.push(r);
      samples.set(r.app as string, list);
    }
    return appSummaries({
      apps: await this.q('SELECT name, first_seen_ms, last_seen_ms FROM apps ORDER BY name'),
      counters: await this.q('SELECT app, counter AS k, value AS n FROM app_counters'),
      byCode: await this.q(
        'SELECT app, code AS k, COUNT(*) AS n FROM diagnoses GROUP BY app, code',
      ),
      platform: await this.q(
        'SELECT app, code AS k, COUNT(*) AS n FROM platform_errors GROUP BY app, code',
      ),
      tokens: await this.q('SELECT app, token FROM app_tokens ORDER BY token'),
      samples: (app) => samples.get(app) ?? [],
    });
  }

  async diagnoses(app: string, sinceMicros: number, limit: number): Promise<AppDiagnosis[]> {
    return (
      await this.q(
        'SELECT body FROM diagnoses WHERE app = $1 AND micros >= $2 ORDER BY micros, id LIMIT $3',
        [app, sinceMicros, limit],
      )
    ).map((r) => ({ app, ...diagnosisBody(r) }));
  }

  async request(q: RequestQuery): Promise<RequestTrail> {
    return followRequest(q, {
      diagnoses: (id, limit) =>
        this.q(
          'SELECT app, micros, body FROM diagnoses WHERE request_id = $1 ORDER BY micros, id LIMIT $2',
          [id, limit],
        ),
      linesAround: (app, from, to, text, limit) =>
        this.q(
          'SELECT id, app, micros, line FROM lines WHERE app = $1 AND micros BETWEEN $2 AND $3 AND strpos(line, $4) > 0 ORDER BY micros, id LIMIT $5',
          [app, from, to, text, limit],
        ),
      latestLines: (scan, text, limit) =>
        this.q(
          'SELECT id, app, micros, line FROM (SELECT id, app, micros, line FROM lines ORDER BY id DESC LIMIT $1) l WHERE strpos(line, $2) > 0 ORDER BY id LIMIT $3',
          [scan, text, limit],
        ),
      apps: () => this.activeApps(0),
    });
  }

  async recentLines(app: string, sinceMs: number, limit: number): Promise<StoredLine[]> {
    return (
      await this.q(
        'SELECT id, received_ms, line FROM lines WHERE app = $1 AND received_ms >= $2 ORDER BY seq DESC LIMIT $3',
        [app, sinceMs, limit],
      )
    )
      .reverse()
      .map((r) => ({ id: num(r.id), app, receivedMs: num(r.received_ms), line: r.line as string }));
  }

  async activeApps(sinceMs: number): Promise<string[]> {
    return (
      await this.q('SELECT name FROM apps WHERE last_seen_ms >= $1 ORDER BY name', [sinceMs])
    ).map((r) => r.name as string);
  }

  async prune(nowMs: number, retention: RetentionMs): Promise<Record<string, number>> {
    const dataCut = nowMs - retention.dataMs;
    const out: Record<string, number> = {};
    // Chunked, so one prune never holds locks on many rows at once; ctid picks rows of
    // tables without an id column.
    const chunked = async (name: string, table: string, where: string, cut: number) => {
      let total = 0;
      for (;;) {
        const r = await this.pool.query(
          `DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE ${where} LIMIT $2)`,
          [cut, PRUNE_CHUNK],
        );
        total += r.rowCount ?? 0;
        if ((r.rowCount ?? 0) < PRUNE_CHUNK) break;
      }
      out[name] = total;
    };
    await chunked('lines', 'lines', 'received_ms < $1', nowMs - retention.linesMs);
    await chunked('diagnoses', 'diagnoses', 'stored_ms < $1', dataCut);
    await chunked('platform_errors', 'platform_errors', 'received_ms < $1', dataCut);
    await chunked('samples', 'samples', 'received_ms < $1', dataCut);
    await chunked('counts', 'counts', 'minute < $1', minuteOfMs(dataCut));
    await chunked('revoked_sessions', 'revoked_sessions', 'expires_ms < $1', nowMs);
    await chunked('cause_routes', 'cause_routes', 'last_ms < $1', dataCut);
    await chunked('batches', 'batches', 'received_ms < $1', nowMs - retention.frameIdsMs);
    return out;
  }

  async revokeSession(nonce: string, expiresMs: number): Promise<void> {
    await this.q(
      'INSERT INTO revoked_sessions (nonce, expires_ms) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING',
      [nonce, expiresMs],
    );
  }

  async revokedSessions(nowMs: number): Promise<string[]> {
    return (await this.q('SELECT nonce FROM revoked_sessions WHERE expires_ms > $1', [nowMs])).map(
      (r) => r.nonce as string,
    );
  }

  async sessionRevoked(nonce: string): Promise<boolean> {
    return (await this.q('SELECT 1 FROM revoked_sessions WHERE nonce = $1', [nonce])).length > 0;
  }

  async getSetting(key: string): Promise<string | undefined> {
    const r = (await this.q('SELECT value FROM settings WHERE key = $1', [key]))[0];
    return r === undefined ? undefined : (r.value as string);
  }

  async setSetting(key: string, value: string): Promise<void> {
    await this.q(
      'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      [key, value],
    );
  }

  async settingOnce(key: string, value: string): Promise<string> {
    await this.q('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [
      key,
      value,
    ]);
    return (await this.getSetting(key)) ?? value;
  }

  /** NOTIFY on a channel (delivered to every listening session, this process's too). */
  async notify(channel: string, payload: string): Promise<void> {
    await this.q('SELECT pg_notify($1, $2)', [channel, payload]);
  }

  // --- reads for the analysis of an app by the process holding its lock (pg-analysis.ts) ---

  /** Apps with lines past their analysis cursor. */
  async pendingApps(): Promise<string[]> {
    return (
      await this.q(
        'SELECT a.name FROM apps a LEFT JOIN analysis_cursors c ON c.app = a.name WHERE a.next_seq > COALESCE(c.seq, 0) ORDER BY a.name',
      )
    ).map((r) => r.name as string);
  }

  async cursor(app: string): Promise<{ seq: number; receivedMs: number } | undefined> {
    const r = (
      await this.q('SELECT seq, received_ms FROM analysis_cursors WHERE app = $1', [app])
    )[0];
    return r === undefined ? undefined : { seq: num(r.seq), receivedMs: num(r.received_ms) };
  }

  async saveCursor(app: string, seq: number, receivedMs: number): Promise<void> {
    await this.q(
      'INSERT INTO analysis_cursors (app, seq, received_ms, updated_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (app) DO UPDATE SET seq = GREATEST(analysis_cursors.seq, excluded.seq), received_ms = excluded.received_ms, updated_ms = excluded.updated_ms',
      [app, seq, receivedMs, Date.now()],
    );
  }

  /** An app's lines after `afterSeq` (and before `beforeSeq`), in sequence (commit) order. */
  async linesAfter(
    app: string,
    afterSeq: number,
    limit: number,
    beforeSeq = Number.MAX_SAFE_INTEGER,
  ): Promise<Array<{ seq: number; receivedMs: number; line: string }>> {
    return (
      await this.q(
        'SELECT seq, received_ms, line FROM lines WHERE app = $1 AND seq > $2 AND seq < $4 ORDER BY seq LIMIT $3',
        [app, afterSeq, limit, beforeSeq],
      )
    ).map((r) => ({ seq: num(r.seq), receivedMs: num(r.received_ms), line: r.line as string }));
  }

  /** Lines up to `seq` that arrived since `sinceMs`: what a process taking an app over feeds again. */
  async linesUpTo(app: string, seq: number, sinceMs: number, limit: number): Promise<string[]> {
    return (
      await this.q(
        'SELECT line FROM (SELECT seq, line FROM lines WHERE app = $1 AND seq <= $2 AND received_ms >= $3 ORDER BY seq DESC LIMIT $4) l ORDER BY seq',
        [app, seq, sinceMs, limit],
      )
    ).map((r) => r.line as string);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
