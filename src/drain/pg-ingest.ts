/**
 * `ingestMany` on PostgreSQL: the batches of a group commit in one transaction, with
 * synchronous_commit on, so the promise resolves once the lines are on the server's disk.
 *
 * The apps' rows are locked first, in name order (two processes ingesting the same apps take
 * the locks in the same order, so they cannot deadlock), and every line gets its app's next
 * sequence numbers from that locked row: an app's lines therefore commit in sequence order,
 * and the process reading an app's lines by sequence (pg-analysis.ts) never skips one that
 * committed late. A retried Frame-Id meets the unique key of `batches`: a concurrent retry on
 * another process waits for the first transaction and then finds it.
 *
 * Every statement is a round trip to the server, so each kind of row is written for the whole
 * group at once (arrays through `unnest`): a group costs about ten round trips whatever its
 * number of batches.
 */

import type pg from 'pg';
import type { IngestBatch, IngestResult } from './store.js';
import { storedText } from './store-rows.js';

const SAMPLES_PER_APP = 20;
const TOKENS_PER_APP = 8;
/** Channel that tells every drain process an app has new lines (payload: the app). */
export const LINES_CHANNEL = 'h13_lines';

const minuteOfMs = (ms: number): number => Math.floor(ms / 60_000);

/** A PostgreSQL array literal of integers (null: NULL), for a `$n::bigint[]` parameter. */
const arrayLiteral = (ns: ReadonlyArray<number | null>): string =>
  `{${ns.map((n) => (n === null ? 'NULL' : String(Math.trunc(n)))).join(',')}}`;

/**
 * A line's text as stored: what the analysis is fed from memory must be what a read gives.
 * Text as PostgreSQL's JSON parser takes it: a lone surrogate (possible in a string decoded
 * from JSON, the OTLP route) would be written by JSON.stringify as an escape the server
 * refuses, so it becomes U+FFFD, as UTF-8 encoding would make it anyway.
 */
export const pgLineText = (text: string): string => jsonSafe(storedText(text));

const jsonSafe = (s: string): string => {
  // ES2024 string methods (Node 20+), not in this project's TypeScript lib.
  const w = s as unknown as { isWellFormed(): boolean; toWellFormed(): string };
  return w.isWellFormed() ? s : w.toWellFormed();
};
const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Sums per key; one statement may not update a row twice, and sorted keys lock in one order. */
class Sums<K extends unknown[]> {
  private readonly rows = new Map<string, { key: K; n: number }>();
  add(key: K, n: number): void {
    const k = JSON.stringify(key);
    const row = this.rows.get(k);
    if (row === undefined) this.rows.set(k, { key, n });
    else row.n += n;
  }
  sorted(): Array<{ key: K; n: number }> {
    return [...this.rows.entries()].sort(([a], [b]) => byKey(a, b)).map(([, row]) => row);
  }
  column<I extends number>(rows: Array<{ key: K; n: number }>, i: I): K[I][] {
    return rows.map((r) => r.key[i]);
  }
}

/** What one ingest transaction did: the results, and each stored batch's first sequence number. */
export interface PgIngested {
  readonly results: IngestResult[];
  /** Per batch, the per-app sequence number of its first line (null: not stored, or no lines). */
  readonly firstSeqs: Array<number | null>;
}

export async function pgIngestMany(
  client: pg.ClientBase,
  batches: readonly IngestBatch[],
): Promise<PgIngested> {
  await client.query('BEGIN; SET LOCAL synchronous_commit = on');
  try {
    const ingested = await ingestGroup(client, batches);
    await client.query('COMMIT');
    return ingested;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

async function ingestGroup(
  client: pg.ClientBase,
  batches: readonly IngestBatch[],
): Promise<PgIngested> {
  const seen = new Map<string, number>();
  for (const b of batches) seen.set(b.app, Math.max(seen.get(b.app) ?? 0, b.receivedMs));
  const apps = [...seen.keys()].sort(byKey);
  await client.query(
    'INSERT INTO apps (name, first_seen_ms, last_seen_ms) SELECT a, t, t FROM unnest($1::text[], $2::bigint[]) AS x(a, t) ORDER BY a ON CONFLICT (name) DO UPDATE SET last_seen_ms = GREATEST(apps.last_seen_ms, excluded.last_seen_ms)',
    [apps, apps.map((a) => seen.get(a))],
  );
  const stored = await storedBatches(client, batches);
  const keep = batches.filter((_, i) => stored[i]);

  const counters = new Sums<[string, string]>();
  batches.forEach((b, i) => {
    if (!stored[i]) {
      counters.add([b.app, 'duplicate-batches'], 1);
      return;
    }
    counters.add([b.app, 'batches'], 1);
    counters.add([b.app, 'lines'], b.lines.length);
    for (const [counter, n] of Object.entries(b.counters))
      if (n > 0) counters.add([b.app, counter], n);
  });
  const c = counters.sorted();
  await client.query(
    'INSERT INTO app_counters (app, counter, value) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT (app, counter) DO UPDATE SET value = app_counters.value + excluded.value',
    [counters.column(c, 0), counters.column(c, 1), c.map((r) => r.n)],
  );

  await tokens(client, keep);
  await samples(client, keep);
  const first = await lines(client, keep);
  await counts(client, keep);
  const fed = [...new Set(keep.filter((b) => b.lines.length > 0).map((b) => b.app))];
  // Delivered at commit, to every process listening (pg-analysis.ts).
  if (fed.length > 0)
    await client.query('SELECT pg_notify($1, a) FROM unnest($2::text[]) AS a', [
      LINES_CHANNEL,
      fed,
    ]);
  const results: IngestResult[] = [];
  const firstSeqs: Array<number | null> = [];
  let k = 0;
  batches.forEach((_, i) => {
    if (stored[i]) {
      results.push({ stored: true, firstLineId: first.ids[k] ?? null });
      firstSeqs.push(first.seqs[k] ?? null);
      k++;
    } else {
      results.push({ stored: false, firstLineId: null });
      firstSeqs.push(null);
    }
  });
  return { results, firstSeqs };
}

/** Which batches are new: a Frame-Id this app sent before (or earlier in this group) is not. */
async function storedBatches(
  client: pg.ClientBase,
  batches: readonly IngestBatch[],
): Promise<boolean[]> {
  const first = new Map<string, IngestBatch>();
  for (const b of batches)
    if (b.frameId !== null) {
      const key = JSON.stringify([b.app, b.frameId]);
      if (!first.has(key)) first.set(key, b);
    }
  const framed = [...first.values()];
  const added = new Set<string>();
  if (framed.length > 0) {
    const r = await client.query<{ app: string; frame_id: string }>(
      'INSERT INTO batches (app, frame_id, received_ms, lines) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[]) ON CONFLICT (app, frame_id) DO NOTHING RETURNING app, frame_id',
      [
        framed.map((b) => b.app),
        framed.map((b) => b.frameId),
        framed.map((b) => b.receivedMs),
        framed.map((b) => b.lines.length),
      ],
    );
    for (const row of r.rows) added.add(JSON.stringify([row.app, row.frame_id]));
  }
  return batches.map((b) => {
    if (b.frameId === null) return true;
    const key = JSON.stringify([b.app, b.frameId]);
    return first.get(key) === b && added.has(key);
  });
}

async function tokens(client: pg.ClientBase, keep: readonly IngestBatch[]): Promise<void> {
  const latest = new Sums<[string, string]>();
  for (const b of keep) if (b.token !== null) latest.add([b.app, b.token], 0);
  const rows = latest.sorted();
  if (rows.length === 0) return;
  const lastMs = new Map<string, number>();
  for (const b of keep)
    if (b.token !== null) {
      const k = JSON.stringify([b.app, b.token]);
      lastMs.set(k, Math.max(lastMs.get(k) ?? 0, b.receivedMs));
    }
  const r = await client.query<{ app: string; inserted: boolean }>(
    'INSERT INTO app_tokens (app, token, last_seen_ms) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT (app, token) DO UPDATE SET last_seen_ms = excluded.last_seen_ms RETURNING app, (xmax = 0) AS inserted',
    [
      latest.column(rows, 0),
      latest.column(rows, 1),
      rows.map((x) => lastMs.get(JSON.stringify(x.key))),
    ],
  );
  // Only a new token can push an app past the tokens it keeps.
  for (const app of new Set(r.rows.filter((x) => x.inserted).map((x) => x.app)))
    await client.query(
      'DELETE FROM app_tokens WHERE app = $1 AND token NOT IN (SELECT token FROM app_tokens WHERE app = $1 ORDER BY last_seen_ms DESC LIMIT $2)',
      [app, TOKENS_PER_APP],
    );
}

async function samples(client: pg.ClientBase, keep: readonly IngestBatch[]): Promise<void> {
  const rows = keep.flatMap((b) => b.samples.map((x) => ({ b, x })));
  if (rows.length === 0) return;
  await client.query(
    'INSERT INTO samples (app, received_ms, kind, sample) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[])',
    [
      rows.map((r) => r.b.app),
      rows.map((r) => r.b.receivedMs),
      rows.map((r) => r.x.kind),
      rows.map((r) => storedText(r.x.sample)),
    ],
  );
  for (const app of new Set(rows.map((r) => r.b.app)))
    await client.query(
      'DELETE FROM samples WHERE app = $1 AND id <= (SELECT id FROM samples WHERE app = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)',
      [app, SAMPLES_PER_APP],
    );
}

/**
 * The lines of the group, each with its app's next sequence number (in batch order), from the
 * app rows this transaction has locked. Resolves with each kept batch's first line id.
 */
async function lines(
  client: pg.ClientBase,
  keep: readonly IngestBatch[],
): Promise<{ ids: Array<number | null>; seqs: Array<number | null> }> {
  const perApp = new Map<string, number>();
  const app: string[] = [];
  const received: number[] = [];
  const micros: Array<number | null> = [];
  const text: string[] = [];
  const ordinal: number[] = [];
  const batch: number[] = [];
  keep.forEach((b, i) => {
    for (const l of b.lines) {
      const o = (perApp.get(b.app) ?? 0) + 1;
      perApp.set(b.app, o);
      app.push(b.app);
      received.push(b.receivedMs);
      micros.push(l.micros);
      text.push(pgLineText(l.text));
      ordinal.push(o);
      batch.push(i);
    }
  });
  const firstIds: Array<number | null> = keep.map(() => null);
  const firstSeqs: Array<number | null> = keep.map(() => null);
  if (app.length === 0) return { ids: firstIds, seqs: firstSeqs };
  // The first line of each batch, as (app, ordinal): its id comes back, the others' do not.
  const heads = new Map<string, number>();
  batch.forEach((bi, k) => {
    if (k === 0 || batch[k - 1] !== bi) heads.set(JSON.stringify([app[k], ordinal[k]]), bi);
  });
  const apps = [...perApp.keys()].sort(byKey);
  const appIndex = new Map(apps.map((a, i) => [a, i + 1]));
  const headKeys = [...heads.keys()].map((k) => JSON.parse(k) as [string, number]);
  // The per-line columns go as one string each rather than as JS arrays, which pg turns into
  // array literals by quoting and escaping every element in JS (7 % of the drain's busy time
  // in a flood profile): numbers as array literals built here, the lines as one JSON array
  // (JSON.stringify is native; the server parses JSON about as fast as an array literal).
  // The app of each line is its index in $1.
  const r = await client.query<{ app: string; o: string; id: string; seq: string }>(
    'WITH c AS (SELECT * FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS c(app, n, k)), s AS (UPDATE apps SET next_seq = apps.next_seq + c.n FROM c WHERE apps.name = c.app RETURNING apps.name, c.k, apps.next_seq - c.n AS base), ins AS (INSERT INTO lines (app, received_ms, micros, line, seq) SELECT s.name, t.r, t.m, t.l, s.base + t.o FROM unnest($3::int[], $4::bigint[], $5::bigint[], ARRAY(SELECT j.l FROM json_array_elements_text($6::json) WITH ORDINALITY AS j(l, k) ORDER BY j.k), $7::bigint[]) AS t(a, r, m, l, o) JOIN s ON s.k = t.a RETURNING app, seq, id) SELECT ins.app, ins.seq - s.base AS o, ins.id, ins.seq FROM ins JOIN s ON s.name = ins.app WHERE (ins.app, ins.seq - s.base) IN (SELECT * FROM unnest($8::text[], $9::bigint[]))',
    [
      apps,
      apps.map((a) => perApp.get(a)),
      arrayLiteral(app.map((a) => appIndex.get(a) as number)),
      arrayLiteral(received),
      arrayLiteral(micros),
      JSON.stringify(text),
      arrayLiteral(ordinal),
      headKeys.map((h) => h[0]),
      headKeys.map((h) => h[1]),
    ],
  );
  for (const row of r.rows) {
    const bi = heads.get(JSON.stringify([row.app, Number(row.o)]));
    if (bi !== undefined) {
      firstIds[bi] = Number(row.id);
      firstSeqs[bi] = Number(row.seq);
    }
  }
  return { ids: firstIds, seqs: firstSeqs };
}

/** Router lines per minute (traffic) and platform errors, with their counts. */
async function counts(client: pg.ClientBase, keep: readonly IngestBatch[]): Promise<void> {
  const sums = new Sums<[string, number, string, string]>();
  const platform = keep.flatMap((b) => b.platformErrors.map((e) => ({ b, e })));
  // Counted per app and minute here first: a key per router line would cost a JSON.stringify
  // each (most lines are router lines).
  for (const b of keep) {
    const perMinute = new Map<number, number>();
    for (const line of b.lines) {
      if (!line.router) continue;
      const minute =
        line.micros === null ? minuteOfMs(b.receivedMs) : Math.floor(line.micros / 60e6);
      perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
    }
    for (const [minute, n] of perMinute) sums.add([b.app, minute, 'requests', ''], n);
  }
  for (const { b, e } of platform) {
    const minute = e.micros === null ? minuteOfMs(b.receivedMs) : Math.floor(e.micros / 60e6);
    sums.add([b.app, minute, 'platform', e.code], 1);
  }
  if (platform.length > 0)
    await client.query(
      'INSERT INTO platform_errors (app, received_ms, micros, code, process, line) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[])',
      [
        platform.map((p) => p.b.app),
        platform.map((p) => p.b.receivedMs),
        platform.map((p) => p.e.micros),
        platform.map((p) => p.e.code),
        platform.map((p) => storedText(p.e.process)),
        platform.map((p) => storedText(p.e.line)),
      ],
    );
  const rows = sums.sorted();
  if (rows.length > 0)
    await client.query(
      "INSERT INTO counts (app, minute, kind, code, cause, route, n) SELECT a, m, k, c, '', '', n FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[]) AS t(a, m, k, c, n) ON CONFLICT (app, minute, kind, code, cause, route) DO UPDATE SET n = counts.n + excluded.n",
      [
        sums.column(rows, 0),
        sums.column(rows, 1),
        sums.column(rows, 2),
        sums.column(rows, 3),
        rows.map((r) => r.n),
      ],
    );
}
