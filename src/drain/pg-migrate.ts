/**
 * The PostgreSQL store runs schema.ts's migrations (the same list as SQLite, in its dialect)
 * in one transaction that first takes a transaction-level advisory lock: drain processes
 * started together (several dynos after a deploy) wait for one another, and the second finds
 * the schema already at its version. PostgreSQL's DDL is transactional, so a migration that
 * fails leaves nothing half done.
 */

import type pg from 'pg';
import { H13Error } from '../core/errors.js';
import { MIGRATIONS, migrationSql } from './schema.js';

/** First key of every advisory lock h13 takes ("h13" in ASCII), so they stay apart from others'. */
export const LOCK_SPACE = 0x00683133;
const MIGRATION_LOCK = 0;

export async function migratePg(client: pg.ClientBase): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_SPACE, MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_ms BIGINT NOT NULL, why TEXT NOT NULL)',
    );
    const row = (
      await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_version')
    ).rows[0];
    const current = row?.v ?? 0;
    const newest = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
    if (current > newest)
      throw new H13Error(
        'H13_ERR_STORE',
        `the database is at schema version ${current}, newer than this h13 knows (${newest}): upgrade h13`,
      );
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      try {
        for (const sql of migrationSql(m, 'postgres')) await client.query(sql);
      } catch (err) {
        throw new H13Error(
          'H13_ERR_STORE',
          `migration ${m.version} failed: ${(err as Error).message}`,
          { cause: err },
        );
      }
      await client.query(
        'INSERT INTO schema_version (version, applied_ms, why) VALUES ($1, $2, $3)',
        [m.version, Date.now(), m.why],
      );
    }
    await client.query('COMMIT');
    return newest;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
