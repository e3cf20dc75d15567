import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LINES_PER_INSERT, openSqliteStore } from '../../src/drain/sqlite-store.js';
import type { IngestBatch, IngestLine } from '../../src/drain/store.js';

const dir = mkdtempSync(join(tmpdir(), 'h13-drain-ingest-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 2, 2, 10, 0, 0);

function lines(batch: number, n: number): IngestLine[] {
  return Array.from({ length: n }, (_, i) => ({
    text: `2026-03-02T10:00:00.000000+00:00 app[web.1]: batch=${batch} line=${i} request_id=r-${batch}-${i}-end`,
    // Every seventh line without a time of its own, as a plain-text line in another format.
    micros: i % 7 === 3 ? null : (T0 + batch) * 1000 + i,
    router: false,
  }));
}

function batch(app: string, frameId: string, ls: IngestLine[]): IngestBatch {
  return {
    app,
    frameId,
    token: null,
    receivedMs: T0,
    lines: ls,
    platformErrors: [],
    counters: {},
    samples: [],
  };
}

describe('SQLite store: lines inserted many rows per statement', () => {
  it('stores every line, in order, with its time, for batch sizes around the chunk', async () => {
    const path = join(dir, 'chunks.db');
    const store = openSqliteStore(path);
    const c = LINES_PER_INSERT;
    const sizes = [1, c - 1, c, c + 1, 2 * c + 3, 0, 5];
    const sent = sizes.map((n, b) => lines(b, n));
    // Several batches in one transaction (group commit), and one alone after them.
    const results = await store.ingestMany(
      sent.slice(0, -1).map((ls, b) => batch('chunky', `F${b}`, ls)),
    );
    results.push(
      ...(await store.ingestMany([batch('chunky', 'last', sent.at(-1) as IngestLine[])])),
    );
    const stored = await store.recentLines('chunky', 0, 10_000);
    const all = sent.flat();
    assert.deepEqual(
      stored.map((l) => l.line),
      all.map((l) => l.text),
    );
    // Each batch's first line id is where its lines start; ids run on without a gap.
    let next = stored[0]?.id as number;
    for (let b = 0; b < sizes.length; b++) {
      const r = results[b];
      assert.equal(r?.stored, true);
      assert.equal(r?.firstLineId, sizes[b] === 0 ? null : next, `batch ${b}`);
      next += sizes[b] as number;
    }
    assert.deepEqual(
      stored.map((l) => l.id),
      Array.from({ length: all.length }, (_, i) => (stored[0]?.id as number) + i),
    );
    // The times went where they belong: the request search reads lines by time.
    const probe = all[c + 5] as IngestLine;
    const id = /request_id=(\S+)/.exec(probe.text)?.[1] as string;
    const trail = await store.request({
      requestId: id,
      aroundMicros: probe.micros,
      limit: 10,
    });
    assert.deepEqual(
      trail.lines.map((l) => l.line),
      [probe.text],
    );
    const counters = (await store.apps()).find((a) => a.name === 'chunky')?.counters;
    assert.equal(counters?.lines, all.length);
    await store.close();
  });

  it('a batch that fails after its lines went in stores nothing, nor any other batch of its commit', async () => {
    const path = join(dir, 'rollback.db');
    const store = openSqliteStore(path);
    const good = lines(1, LINES_PER_INSERT + 2);
    // A platform error without a code breaks a NOT NULL constraint: the second batch fails
    // after its lines went in, in the same transaction as the first.
    const bad: IngestBatch = {
      ...batch('rb', 'bad', lines(2, LINES_PER_INSERT + 2)),
      platformErrors: [
        { code: null as unknown as string, process: 'web.1', micros: null, line: 'x' },
      ],
    };
    await assert.rejects(store.ingestMany([batch('rb', 'good', good), bad]), /write failed/);
    assert.deepEqual(await store.recentLines('rb', 0, 1000), []);
    // The Frame-Ids were rolled back too: a retry is stored, not taken for a duplicate.
    const again = await store.ingestMany([batch('rb', 'good', good)]);
    assert.equal(again[0]?.stored, true);
    assert.equal((await store.recentLines('rb', 0, 1000)).length, good.length);
    await store.close();
  });
});
