/**
 * A commit that fails is answered 503 (logplex retries it with the same Frame-Id), stores
 * nothing, and the retry is stored as new, not taken for a duplicate. The failure is a real
 * one: another connection holds SQLite's write lock past the drain's busy timeout.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openSqlite } from '../../src/drain/sqlite.js';
import { postFrames, startDrainProcess } from './drain-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'h13-drain-store-failure-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const lines = (batch: string) =>
  Array.from(
    { length: 70 },
    (_, i) =>
      `2026-03-02T10:15:05.${String(i).padStart(6, '0')}+00:00 app[web.1]: ${batch} line=${i}`,
  );

describe('h13 drain: a failed commit', () => {
  it('is answered 503, stores nothing, and its retry with the same Frame-Id is stored once', async () => {
    const db = join(dir, 'locked.db');
    const drain = await startDrainProcess(db);
    const sqlite = openSqlite(db);
    try {
      assert.equal((await postFrames(drain.url, 'locked', lines('first'), 'F1')).status, 200);
      sqlite.exec('BEGIN IMMEDIATE');
      let held = true;
      try {
        const refused = await postFrames(drain.url, 'locked', lines('second'), 'F2');
        assert.equal(refused.status, 503, refused.text);
        const stored = sqlite
          .prepare("SELECT COUNT(*) AS n FROM lines WHERE app = 'locked' AND line LIKE '%second%'")
          .get();
        assert.equal(Number(stored?.n), 0);
        sqlite.exec('ROLLBACK');
        held = false;
      } finally {
        if (held) sqlite.exec('ROLLBACK');
      }
      const retried = await postFrames(drain.url, 'locked', lines('second'), 'F2');
      assert.equal(retried.status, 200, retried.text);
      assert.deepEqual(retried.json(), { app: 'locked', lines: 70, duplicate: false });
      const again = await postFrames(drain.url, 'locked', lines('second'), 'F2');
      assert.equal(again.json().duplicate, true);
      const count = sqlite
        .prepare("SELECT COUNT(*) AS n FROM lines WHERE app = 'locked' AND line LIKE '%second%'")
        .get();
      assert.equal(Number(count?.n), 70);
    } finally {
      sqlite.close();
      drain.proc.kill();
      await drain.proc.exited();
    }
  });
});
