/**
 * The two stores as test subjects: each opens a fresh store, runs raw SQL on it (to look
 * behind the interface) and can be reopened. store.test.ts and durability.test.ts run one
 * list of cases against each.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openPgStore } from '../../src/drain/pg-store.js';
import { openSqlite } from '../../src/drain/sqlite.js';
import { openSqliteStore } from '../../src/drain/sqlite-store.js';
import type { Store } from '../../src/drain/store.js';
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js';

export interface StoreKind {
  readonly name: string;
  /** Prepares the kind (starts PostgreSQL); undone by `teardown`. */
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A new, empty place for a store: a file path or a database URL. */
  place(label: string): Promise<string>;
  open(place: string): Promise<Store>;
  /** SQL run directly (`?` parameters), rows as plain objects. */
  sql(place: string, text: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  /** `h13 drain` arguments that put its store at `place`. */
  drainArgs(place: string): string[];
}

export function sqliteKind(): StoreKind {
  let dir = '';
  return {
    name: 'SQLite',
    async setup() {
      dir = mkdtempSync(join(tmpdir(), 'h13-drain-store-'));
    },
    async teardown() {
      rmSync(dir, { recursive: true, force: true });
    },
    async place(label) {
      return join(dir, `${label}.db`);
    },
    async open(place) {
      return openSqliteStore(place);
    },
    async sql(place, text, params = []) {
      const db = openSqlite(place);
      try {
        const stmt = db.prepare(text);
        if (/^\s*select/i.test(text)) return stmt.all(...(params as never[]));
        stmt.run(...(params as never[]));
        return [];
      } finally {
        db.close();
      }
    },
    drainArgs: (place) => ['--db', place],
  };
}

export function postgresKind(): StoreKind {
  let server: TestPostgres | undefined;
  return {
    name: 'PostgreSQL',
    async setup() {
      server = await startTestPostgres();
    },
    async teardown() {
      await server?.stop();
    },
    async place() {
      if (server === undefined) throw new Error('PostgreSQL not started');
      return server.createDatabase();
    },
    open: (place) => openPgStore(place),
    async sql(place, text, params = []) {
      const c = new pg.Client({ connectionString: place });
      await c.connect();
      try {
        let i = 0;
        return (
          await c.query(
            text.replace(/\?/g, () => `$${++i}`),
            params,
          )
        ).rows;
      } finally {
        await c.end();
      }
    },
    drainArgs: (place) => ['--database-url', place],
  };
}

export const STORE_KINDS: ReadonlyArray<() => StoreKind> = [sqliteKind, postgresKind];
