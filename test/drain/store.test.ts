import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { H13Error } from '../../src/core/errors.js';
import { MIGRATIONS } from '../../src/drain/schema.js';
import { openSqlite } from '../../src/drain/sqlite.js';
import { openSqliteStore } from '../../src/drain/sqlite-store.js';
import type { IngestBatch, Store } from '../../src/drain/store.js';

const dir = mkdtempSync(join(tmpdir(), 'h13-drain-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const DAY = 24 * 3_600_000;
const ID = '5d3f2a10-6b8c-4e7f-9a01-2b3c4d5e6f70';

async function ingest(store: Store, b: IngestBatch) {
  return (await store.ingestMany([b]))[0] as { stored: boolean };
}

function batch(app: string, frameId: string | null, receivedMs: number, text: string): IngestBatch {
  return {
    app,
    frameId,
    token: null,
    receivedMs,
    lines: [{ text, micros: receivedMs * 1000, router: true }],
    platformErrors: [],
    counters: {},
    samples: [],
  };
}

describe('SQLite store', () => {
  it('migrates a new file once and refuses a file from a newer h13', async () => {
    const path = join(dir, 'migrate.db');
    await (await openSqliteStore(path)).close();
    await (await openSqliteStore(path)).close();
    const db = openSqlite(path);
    const versions = db
      .prepare('SELECT version FROM schema_version')
      .all()
      .map((r) => r.version);
    assert.deepEqual(
      versions,
      MIGRATIONS.map((m) => m.version),
    );
    db.prepare('INSERT INTO schema_version (version, applied_ms, why) VALUES (?, ?, ?)').run(
      999,
      0,
      'future',
    );
    db.close();
    assert.throws(
      () => openSqliteStore(path),
      (err: unknown) =>
        err instanceof H13Error && err.code === 'H13_ERR_STORE' && /999/.test(err.message),
    );
  });

  it('retention by age: old lines, diagnoses and Frame-Ids go, recent ones stay; request ids found by time window', async () => {
    const store = openSqliteStore(join(dir, 'prune.db'));
    try {
      const now = Date.now();
      assert.equal(
        (await ingest(store, batch('a', 'OLD', now - 2 * DAY, `old ${ID}`))).stored,
        true,
      );
      assert.equal((await ingest(store, batch('a', 'NEW', now, `new ${ID}`))).stored, true);
      assert.equal((await ingest(store, batch('a', 'NEW', now, `new ${ID}`))).stored, false);
      const removed = await store.prune(now, { dataMs: 7 * DAY, linesMs: DAY, frameIdsMs: DAY });
      assert.equal(removed.lines, 1);
      assert.equal(removed.batches, 1);
      const trail = await store.request({ requestId: ID, aroundMicros: null, limit: 10 });
      assert.deepEqual(
        trail.lines.map((l) => l.line),
        [`new ${ID}`],
      );
      assert.ok(trail.searched.latestLines > 0);
      const around = await store.request({ requestId: ID, aroundMicros: now * 1000, limit: 10 });
      assert.deepEqual(
        around.lines.map((l) => l.line),
        [`new ${ID}`],
      );
      const elsewhere = await store.request({
        requestId: ID,
        aroundMicros: (now - DAY) * 1000,
        limit: 10,
      });
      assert.deepEqual(elsewhere.lines, [], 'only lines near the time asked');
      // The old Frame-Id is forgotten, the recent one still deduplicates.
      assert.equal((await ingest(store, batch('a', 'OLD', now, 'again'))).stored, true);
      assert.equal((await ingest(store, batch('a', 'NEW', now, 'new line'))).stored, false);

      const json = {
        code: 'H13',
        cause: 'app-crash',
        route: '/',
        requestId: ID,
      } as unknown as Parameters<typeof store.addDiagnoses>[1][number]['json'];
      assert.equal(await store.addDiagnoses('a', [{ key: 'k1', micros: now * 1000, json }]), 1);
      assert.equal(await store.addDiagnoses('a', [{ key: 'k1', micros: now * 1000, json }]), 0);
      assert.equal((await store.diagnoses('a', 0, 10)).length, 1);
      const later = await store.prune(now + 8 * DAY, {
        dataMs: 7 * DAY,
        linesMs: DAY,
        frameIdsMs: DAY,
      });
      assert.equal(later.diagnoses, 1);
      assert.equal((await store.diagnoses('a', 0, 10)).length, 0);
    } finally {
      await store.close();
    }
  });
});
