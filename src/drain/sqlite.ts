/**
 * `node:sqlite` (Node 22.5+; without a flag since 22.13) loaded at run time with the few
 * types this package uses. Loaded through `createRequire` rather than a static import so the
 * package still type-checks against older `@types/node` and so a Node without the module gets
 * a clear H13Error instead of a failed import of the whole CLI.
 */

import { createRequire } from 'node:module';
import { H13Error } from '../core/errors.js';

export type SqlValue = null | number | bigint | string | Uint8Array;
export type SqlRow = Record<string, SqlValue>;

export interface SqliteStatement {
  run(...params: SqlValue[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  get(...params: SqlValue[]): SqlRow | undefined;
  all(...params: SqlValue[]): SqlRow[];
}

export interface SqliteDatabase {
  exec(sql: string): void;
  prepare(sql: string): SqliteStatement;
  close(): void;
}

interface SqliteModule {
  DatabaseSync: new (path: string) => SqliteDatabase;
}

export function openSqlite(path: string): SqliteDatabase {
  let mod: SqliteModule;
  try {
    mod = createRequire(import.meta.url)('node:sqlite') as SqliteModule;
  } catch (err) {
    throw new H13Error(
      'H13_ERR_STORE',
      `node:sqlite is not available in Node ${process.version}: h13 drain needs Node 22.13 or later`,
      { cause: err },
    );
  }
  try {
    return new mod.DatabaseSync(path);
  } catch (err) {
    throw new H13Error('H13_ERR_STORE', `cannot open ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
