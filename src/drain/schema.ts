/**
 * The drain's schema as ordered migrations, recorded in `schema_version`. The SQL sticks to
 * what SQLite and PostgreSQL both accept; the one difference, the type of an auto-assigned
 * id, is the `{{ID}}` placeholder a store fills in (`ID_TYPE`: SQLite INTEGER PRIMARY KEY, an
 * alias of the rowid; PostgreSQL BIGSERIAL PRIMARY KEY), so both stores run these same
 * migrations. Never edit a migration that has shipped: add the next one.
 */

export interface Migration {
  readonly version: number;
  readonly why: string;
  /** SQL for both stores, or `{ only, sql }` for one of them (an index one store does without). */
  readonly statements: ReadonlyArray<string | { readonly only: Dialect; readonly sql: string }>;
}

type Dialect = 'sqlite' | 'postgres';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    why: 'apps, batches (Frame-Id dedup), raw lines, diagnoses, counts, platform errors, bad-input samples, settings',
    statements: [
      'CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)',
      'CREATE TABLE apps (name TEXT PRIMARY KEY, first_seen_ms BIGINT NOT NULL, last_seen_ms BIGINT NOT NULL)',
      // Counters per app (lines, batches, duplicates, malformed frames...): a new counter
      // needs no migration.
      'CREATE TABLE app_counters (app TEXT NOT NULL, counter TEXT NOT NULL, value BIGINT NOT NULL, PRIMARY KEY (app, counter))',
      'CREATE TABLE app_tokens (app TEXT NOT NULL, token TEXT NOT NULL, last_seen_ms BIGINT NOT NULL, PRIMARY KEY (app, token))',
      'CREATE TABLE samples (id {{ID}}, app TEXT NOT NULL, received_ms BIGINT NOT NULL, kind TEXT NOT NULL, sample TEXT NOT NULL)',
      'CREATE INDEX samples_app ON samples (app, id)',
      'CREATE TABLE batches (app TEXT NOT NULL, frame_id TEXT NOT NULL, received_ms BIGINT NOT NULL, lines INTEGER NOT NULL, PRIMARY KEY (app, frame_id))',
      'CREATE INDEX batches_received ON batches (received_ms)',
      'CREATE TABLE lines (id {{ID}}, app TEXT NOT NULL, received_ms BIGINT NOT NULL, micros BIGINT, line TEXT NOT NULL)',
      // Both indexes grow at their end as lines arrive. An index keyed by request id would
      // take a random page per line (measured: about 60 us of the 72 us a line cost to
      // store): request ids are found by scanning a time window instead (store.request).
      'CREATE INDEX lines_app_received ON lines (app, received_ms)',
      'CREATE INDEX lines_app_micros ON lines (app, micros)',
      // `dkey` identifies a diagnosis by its router line, so a replay after a restart (or a
      // plain-text upload sent twice) cannot store or count it twice.
      'CREATE TABLE diagnoses (id {{ID}}, app TEXT NOT NULL, dkey TEXT NOT NULL, micros BIGINT NOT NULL, code TEXT NOT NULL, cause TEXT NOT NULL, route TEXT NOT NULL, request_id TEXT, stored_ms BIGINT NOT NULL, body TEXT NOT NULL, UNIQUE (app, dkey))',
      'CREATE INDEX diagnoses_app_micros ON diagnoses (app, micros)',
      'CREATE INDEX diagnoses_request ON diagnoses (request_id)',
      'CREATE INDEX diagnoses_stored ON diagnoses (stored_ms)',
      // kind: diagnosis (code, cause, route), platform (code), requests (router lines).
      'CREATE TABLE counts (app TEXT NOT NULL, minute BIGINT NOT NULL, kind TEXT NOT NULL, code TEXT NOT NULL, cause TEXT NOT NULL, route TEXT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (app, minute, kind, code, cause, route))',
      'CREATE INDEX counts_minute ON counts (minute)',
      'CREATE TABLE platform_errors (id {{ID}}, app TEXT NOT NULL, received_ms BIGINT NOT NULL, micros BIGINT, code TEXT NOT NULL, process TEXT NOT NULL, line TEXT NOT NULL)',
      'CREATE INDEX platform_errors_app ON platform_errors (app, id)',
      'CREATE INDEX platform_errors_received ON platform_errors (received_ms)',
    ],
  },
  {
    version: 2,
    why: 'cause/route pairs each app has seen (a new one is alerted once, across restarts); web sessions ended by a logout',
    statements: [
      // One row per (app, cause, route) ever diagnosed within the retention: the first time
      // a pair is inserted is the "new cause" an alert announces. last_ms lets retention
      // forget pairs not seen for that long.
      'CREATE TABLE cause_routes (app TEXT NOT NULL, cause TEXT NOT NULL, route TEXT NOT NULL, first_micros BIGINT NOT NULL, first_ms BIGINT NOT NULL, last_ms BIGINT NOT NULL, PRIMARY KEY (app, cause, route))',
      'CREATE INDEX cause_routes_last ON cause_routes (last_ms)',
      // Web sessions ended by a logout before they expire (a session is otherwise a signed
      // cookie that nothing stores); kept until the cookie would have expired.
      'CREATE TABLE revoked_sessions (nonce TEXT PRIMARY KEY, expires_ms BIGINT NOT NULL)',
    ],
  },
  {
    version: 3,
    why: 'per-app line sequence and analysis cursors: several drain processes on one PostgreSQL',
    statements: [
      // Assigned under the app row's lock in the ingest transaction (PostgreSQL store), so
      // an app's lines commit in sequence order and a reader that follows `seq` never skips
      // a line committed late (a serial id does not promise that across transactions).
      'ALTER TABLE apps ADD COLUMN next_seq BIGINT NOT NULL DEFAULT 0',
      'ALTER TABLE lines ADD COLUMN seq BIGINT',
      // Partial: the SQLite store feeds its analyzers in memory and leaves seq NULL, so its
      // lines pay for no entry here.
      'CREATE INDEX lines_app_seq ON lines (app, seq) WHERE seq IS NOT NULL',
      // How far the process holding an app's analysis has read, and the arrival time of that
      // line: a process taking the app over feeds again the lines before it within the
      // evidence window (diagnoses are keyed, so none is stored twice).
      'CREATE TABLE analysis_cursors (app TEXT PRIMARY KEY, seq BIGINT NOT NULL, received_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL)',
    ],
  },
  {
    version: 4,
    why: 'PostgreSQL: the lines time indexes as BRIN, not B-tree (ingest speed, issue 17)',
    statements: [
      // Every B-tree is one more index insert per line: on PostgreSQL each of these two cost
      // about 2.3 us of server CPU per line (psql, 100 000 lines). Lines arrive in time order,
      // so a BRIN index (the min/max of each range of pages) finds a time window almost as
      // well, for next to nothing per insert. The reads by time: prune (received_ms), the
      // request search (micros, one app: the pages of the window, filtered by app). The
      // analysis reads by (app, seq), a B-tree still. SQLite keeps its B-trees (no BRIN).
      { only: 'postgres', sql: 'DROP INDEX lines_app_received' },
      { only: 'postgres', sql: 'DROP INDEX lines_app_micros' },
      {
        only: 'postgres',
        sql: 'CREATE INDEX lines_received_brin ON lines USING brin (received_ms) WITH (autosummarize = on)',
      },
      {
        only: 'postgres',
        sql: 'CREATE INDEX lines_micros_brin ON lines USING brin (micros) WITH (autosummarize = on)',
      },
    ],
  },
];

export const ID_TYPE = {
  sqlite: 'INTEGER PRIMARY KEY',
  postgres: 'BIGSERIAL PRIMARY KEY',
} as const;

/** A migration's statements in one dialect. */
export function migrationSql(m: Migration, dialect: Dialect): string[] {
  return m.statements
    .filter((x) => typeof x === 'string' || x.only === dialect)
    .map((x) => (typeof x === 'string' ? x : x.sql).replaceAll('{{ID}}', ID_TYPE[dialect]));
}

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
