import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { H13Error } from '../../src/core/errors.js';
import { MIGRATIONS } from '../../src/drain/schema.js';
import type { IngestBatch, Store } from '../../src/drain/store.js';
import { STORE_KINDS, type StoreKind } from './store-kinds.js';

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

async function withStore(
  kind: StoreKind,
  label: string,
  work: (s: Store, place: string) => Promise<void>,
) {
  const place = await kind.place(label);
  const store = await kind.open(place);
  try {
    await work(store, place);
  } finally {
    await store.close();
  }
}

for (const makeKind of STORE_KINDS) {
  const kind = makeKind();
  describe(`${kind.name} store`, () => {
    before(() => kind.setup());
    after(() => kind.teardown());

    it('migrates a new store once and refuses one from a newer h13', async () => {
      const place = await kind.place('migrate');
      await (await kind.open(place)).close();
      await (await kind.open(place)).close();
      const versions = (
        await kind.sql(place, 'SELECT version FROM schema_version ORDER BY version')
      ).map((r) => Number(r.version));
      assert.deepEqual(
        versions,
        MIGRATIONS.map((m) => m.version),
      );
      await kind.sql(
        place,
        'INSERT INTO schema_version (version, applied_ms, why) VALUES (?, ?, ?)',
        [999, 0, 'future'],
      );
      await assert.rejects(
        async () => kind.open(place),
        (err: unknown) =>
          err instanceof H13Error && err.code === 'H13_ERR_STORE' && /999/.test(err.message),
      );
    });

    it('several stores opening a new store at once migrate it once', async () => {
      const place = await kind.place('together');
      const stores = await Promise.all([kind.open(place), kind.open(place), kind.open(place)]);
      for (const s of stores) await s.close();
      const versions = await kind.sql(place, 'SELECT version FROM schema_version');
      assert.equal(versions.length, MIGRATIONS.length);
    });

    it('a retried Frame-Id is stored once, also when both arrive at once', async () => {
      await withStore(kind, 'retry', async (store) => {
        const now = Date.now();
        const results = await Promise.all([
          store.ingestMany([batch('r', 'F1', now, 'one')]),
          store.ingestMany([batch('r', 'F1', now, 'one')]),
          store.ingestMany([batch('r', 'F2', now, 'two'), batch('r', 'F2', now, 'two')]),
        ]);
        const stored = results.flat().filter((r) => r.stored).length;
        assert.equal(stored, 2);
        const [app] = await store.apps();
        assert.equal(app?.counters['duplicate-batches'], 2);
        assert.equal(app?.counters.lines, 2);
      });
    });

    it('a group of batches for several apps: all stored in order, first line ids given, a repeat inside the group found', async () => {
      await withStore(kind, 'group', async (store) => {
        const now = Date.now();
        const two = (app: string, frame: string | null, texts: string[]): IngestBatch => ({
          ...batch(app, frame, now, ''),
          lines: texts.map((text) => ({ text, micros: now * 1000, router: false })),
        });
        const results = await store.ingestMany([
          two('ga', 'F1', ['a1', 'a2']),
          two('gb', 'F1', ['b1']),
          two('ga', null, ['a3', 'a4', 'a5']),
          two('ga', 'F1', ['again']),
          two('gb', 'F2', []),
        ]);
        assert.deepEqual(
          results.map((r) => r.stored),
          [true, true, true, false, true],
        );
        const ids = results.map((r) => r.firstLineId);
        assert.ok(
          ids.slice(0, 3).every((id) => typeof id === 'number'),
          JSON.stringify(ids),
        );
        assert.equal(ids[3], null);
        const ga = await store.recentLines('ga', 0, 10);
        assert.deepEqual(
          ga.map((l) => l.line),
          ['a1', 'a2', 'a3', 'a4', 'a5'],
        );
        const gb = await store.recentLines('gb', 0, 10);
        assert.deepEqual(
          [
            ga.find((l) => l.id === ids[0])?.line,
            gb.find((l) => l.id === ids[1])?.line,
            ga.find((l) => l.id === ids[2])?.line,
          ],
          ['a1', 'b1', 'a3'],
          'each first line id is its batch first line',
        );
        const [gaApp] = (await store.apps()).filter((a) => a.name === 'ga');
        assert.equal(gaApp?.counters.lines, 5);
        assert.equal(gaApp?.counters['duplicate-batches'], 1);
      });
    });

    it('keeps text with NUL (as U+FFFD) and other control characters', async () => {
      await withStore(kind, 'nul', async (store) => {
        const now = Date.now();
        assert.equal((await ingest(store, batch('n', 'F', now, 'a\u0000b\u0007c'))).stored, true);
        const [line] = await store.recentLines('n', 0, 10);
        assert.equal(line?.line, 'a\uFFFDb\u0007c');
      });
    });

    it('retention by age: old lines, diagnoses and Frame-Ids go, recent ones stay; request ids found by time window', async () => {
      await withStore(kind, 'prune', async (store) => {
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
        const again = await store.addDiagnosesNew('a', [{ key: 'k2', micros: now * 1000, json }]);
        assert.deepEqual(
          again.map((d) => d.newCauseRoute),
          [false],
          'the same cause on the same route is not new',
        );
        assert.equal((await store.diagnoses('a', 0, 10)).length, 2);
        const later = await store.prune(now + 8 * DAY, {
          dataMs: 7 * DAY,
          linesMs: DAY,
          frameIdsMs: DAY,
        });
        assert.equal(later.diagnoses, 2);
        assert.equal((await store.diagnoses('a', 0, 10)).length, 0);
      });
    });

    it('counts, platform errors, samples and tokens come back as stored', async () => {
      await withStore(kind, 'summary', async (store) => {
        const now = Date.UTC(2026, 2, 2, 10, 15, 30);
        await store.ingestMany([
          {
            ...batch('s', 'F1', now, 'router line'),
            token: 'd.tok',
            platformErrors: [
              { code: 'R14', process: 'web.1', micros: now * 1000, line: 'R14 line' },
            ],
            counters: { 'malformed-frame': 2 },
            samples: [{ kind: 'malformed-frame', sample: 'bad' }],
          },
        ]);
        await store.countRejected('s', 'rejected-too-large', now);
        const [app] = await store.apps();
        assert.equal(app?.name, 's');
        assert.deepEqual(app?.drainTokens, ['d.tok']);
        assert.deepEqual(app?.platformErrors, { R14: 1 });
        assert.equal(app?.counters['malformed-frame'], 2);
        assert.equal(app?.counters['rejected-too-large'], 1);
        assert.deepEqual(
          app?.badInput.map((b) => b.sample),
          ['bad'],
        );
        const counts = await store.appCounts('s', 60);
        assert.equal(counts.endMinute, Math.floor(now / 60_000));
        assert.deepEqual(counts.rows.map((r) => [r.kind, r.code, r.n]).sort(), [
          ['platform', 'R14', 1],
          ['requests', '', 1],
        ]);
        assert.deepEqual(
          (await store.recentPlatformErrors('s', 5)).map((e) => e.code),
          ['R14'],
        );
        await store.setSetting('k', 'v1');
        await store.setSetting('k', 'v2');
        assert.equal(await store.getSetting('k'), 'v2');
        const once = await Promise.all([
          store.settingOnce('once', 'a'),
          store.settingOnce('once', 'b'),
          store.settingOnce('once', 'c'),
        ]);
        assert.equal(new Set(once).size, 1, 'every caller gets the value kept');
        assert.equal(await store.getSetting('once'), once[0]);
        await store.revokeSession('nonce', now + 1000);
        assert.deepEqual(await store.revokedSessions(now), ['nonce']);
        assert.deepEqual(await store.revokedSessions(now + 2000), []);
      });
    });
  });
}
