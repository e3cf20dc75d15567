/**
 * The analysis of an app on PostgreSQL (pg-analysis.ts) is fed the lines this process
 * committed from memory, and only the gaps (lines another process stored) from the database,
 * in sequence order either way. Two stores on one database stand for two drain processes;
 * the analyses are a recorder of what was fed.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { AppAnalyses } from '../../src/drain/app-analyses.js';
import { PgAnalysis } from '../../src/drain/pg-analysis.js';
import { openPgStore, type PgStore } from '../../src/drain/pg-store.js';
import type { IngestBatch } from '../../src/drain/store.js';
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js';

const APP = 'shop';

function batch(frameId: string, texts: readonly string[]): IngestBatch {
  return {
    app: APP,
    frameId,
    token: null,
    receivedMs: Date.now(),
    lines: texts.map((text) => ({ text, micros: null, router: false })),
    platformErrors: [],
    counters: {},
    samples: [],
  };
}

/** What the analysis was fed, per app, in order. */
function recorder() {
  const fed: string[] = [];
  const analyses = {
    feed(app: string, lines: readonly string[]) {
      if (app === APP) fed.push(...lines);
    },
    drop() {},
  };
  return { fed, analyses: analyses as unknown as AppAnalyses };
}

describe('PostgreSQL analysis: own lines from memory, the others read', () => {
  let pgServer: TestPostgres;
  const stores: PgStore[] = [];
  const analyses: PgAnalysis[] = [];

  before(async () => {
    pgServer = await startTestPostgres();
  });
  after(async () => {
    for (const a of analyses) {
      await a.stop();
      await a.release();
    }
    for (const s of stores) await s.close();
    await pgServer?.stop();
  });

  it('feeds every line once, in sequence order, reading only what another process stored', async () => {
    const url = await pgServer.createDatabase();
    const mine = await openPgStore(url);
    const other = await openPgStore(url);
    stores.push(mine, other);
    const { fed, analyses: recorded } = recorder();
    const analysis = new PgAnalysis(mine, recorded, {
      pollMs: 60_000,
      replayMs: 120_000,
      replayMaxLines: 1000,
      log: () => {},
    });
    analyses.push(analysis);
    await analysis.start();

    // Stored before this process holds the app: read from the database at the takeover.
    await mine.ingestMany([batch('f1', ['1', '2', '3'])]);
    await analysis.wakeAndWait();
    assert.deepEqual(analysis.heldApps(), [APP]);
    assert.deepEqual(fed, ['1', '2', '3']);
    assert.deepEqual(analysis.fed, { kept: 0, read: 3 });

    // Own, another process's, own again (NUL, quotes, escapes, a lone surrogate: as stored),
    // then two at once in one group.
    await mine.ingestMany([batch('f2', ['4', '5'])]);
    await other.ingestMany([batch('f3', ['6', '7'])]);
    await mine.ingestMany([batch('f4', ['8\0', 'q"\\\n\u0001é🙂\uD800'])]);
    await mine.ingestMany([batch('f5', ['9']), batch('f6', ['10', '11'])]);
    // A retried Frame-Id is not stored, so nothing is kept for it.
    await mine.ingestMany([batch('f2', ['4', '5'])]);
    await analysis.wakeAndWait();
    const odd = 'q"\\\n\u0001é🙂\uFFFD';
    assert.deepEqual(fed, ['1', '2', '3', '4', '5', '6', '7', '8\uFFFD', odd, '9', '10', '11']);
    assert.deepEqual(analysis.fed, { kept: 7, read: 5 });
    // What memory fed is what the database holds.
    const stored = await mine.linesAfter(APP, 0, 100);
    assert.deepEqual(
      stored.map((l) => l.line),
      fed,
    );

    // The cursor saved is the last line fed: a process taking over reads on from there.
    assert.deepEqual((await mine.cursor(APP))?.seq, 12);
  });

  it('the lines table has one B-tree besides its key, (app, seq); its time indexes are BRIN', async () => {
    const url = await pgServer.createDatabase();
    const store = await openPgStore(url);
    stores.push(store);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const r = await c.query<{ indexname: string; am: string }>(
        "SELECT i.indexname, a.amname AS am FROM pg_indexes i JOIN pg_class x ON x.relname = i.indexname JOIN pg_am a ON a.oid = x.relam WHERE i.tablename = 'lines' ORDER BY i.indexname",
      );
      assert.deepEqual(
        r.rows.map((x) => `${x.indexname} ${x.am}`),
        [
          'lines_app_seq btree',
          'lines_micros_brin brin',
          'lines_pkey btree',
          'lines_received_brin brin',
        ],
      );
    } finally {
      await c.end();
    }
  });
});
