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
 */

import type pg from 'pg';
import type { IngestBatch, IngestResult } from './store.js';

const SAMPLES_PER_APP = 20;
const TOKENS_PER_APP = 8;
/** Channel that tells every drain process an app has new lines (payload: the app). */
export const LINES_CHANNEL = 'h13_lines';

const minuteOfMs = (ms: number): number => Math.floor(ms / 60_000);
/** PostgreSQL's text cannot hold NUL; SQLite's can. Shown as U+FFFD, as invalid UTF-8 is. */
export const pgText = (s: string): string => (s.includes('\0') ? s.replaceAll('\0', '\uFFFD') : s);

export async function pgIngestMany(
  client: pg.ClientBase,
  batches: readonly IngestBatch[],
): Promise<IngestResult[]> {
  await client.query('BEGIN');
  try {
    await client.query('SET LOCAL synchronous_commit = on');
    const apps = new Map<string, number>();
    for (const b of batches) apps.set(b.app, Math.max(apps.get(b.app) ?? 0, b.receivedMs));
    for (const app of [...apps.keys()].sort())
      await client.query(
        'INSERT INTO apps (name, first_seen_ms, last_seen_ms) VALUES ($1, $2, $2) ON CONFLICT (name) DO UPDATE SET last_seen_ms = GREATEST(apps.last_seen_ms, excluded.last_seen_ms)',
        [app, apps.get(app)],
      );
    const results: IngestResult[] = [];
    const fed = new Set<string>();
    for (const b of batches) {
      const r = await ingestOne(client, b);
      if (r.stored && b.lines.length > 0) fed.add(b.app);
      results.push(r);
    }
    // Delivered at commit, to every process listening (pg-analysis.ts).
    for (const app of fed) await client.query('SELECT pg_notify($1, $2)', [LINES_CHANNEL, app]);
    await client.query('COMMIT');
    return results;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

async function addCounters(
  client: pg.ClientBase,
  app: string,
  counters: ReadonlyMap<string, number>,
): Promise<void> {
  if (counters.size === 0) return;
  await client.query(
    'INSERT INTO app_counters (app, counter, value) SELECT $1, c, v FROM unnest($2::text[], $3::bigint[]) AS t(c, v) ON CONFLICT (app, counter) DO UPDATE SET value = app_counters.value + excluded.value',
    [app, [...counters.keys()], [...counters.values()]],
  );
}

async function ingestOne(client: pg.ClientBase, b: IngestBatch): Promise<IngestResult> {
  if (b.frameId !== null) {
    const added = await client.query(
      'INSERT INTO batches (app, frame_id, received_ms, lines) VALUES ($1, $2, $3, $4) ON CONFLICT (app, frame_id) DO NOTHING',
      [b.app, b.frameId, b.receivedMs, b.lines.length],
    );
    if (added.rowCount === 0) {
      await addCounters(client, b.app, new Map([['duplicate-batches', 1]]));
      return { stored: false, firstLineId: null };
    }
  }
  if (b.token !== null) {
    await client.query(
      'INSERT INTO app_tokens (app, token, last_seen_ms) VALUES ($1, $2, $3) ON CONFLICT (app, token) DO UPDATE SET last_seen_ms = excluded.last_seen_ms',
      [b.app, b.token, b.receivedMs],
    );
    await client.query(
      'DELETE FROM app_tokens WHERE app = $1 AND token NOT IN (SELECT token FROM app_tokens WHERE app = $1 ORDER BY last_seen_ms DESC LIMIT $2)',
      [b.app, TOKENS_PER_APP],
    );
  }
  const counters = new Map<string, number>([
    ['batches', 1],
    ['lines', b.lines.length],
  ]);
  for (const [counter, n] of Object.entries(b.counters))
    if (n > 0) counters.set(counter, (counters.get(counter) ?? 0) + n);
  await addCounters(client, b.app, counters);
  if (b.samples.length > 0) {
    await client.query(
      'INSERT INTO samples (app, received_ms, kind, sample) SELECT $1, $2, k, s FROM unnest($3::text[], $4::text[]) AS t(k, s)',
      [b.app, b.receivedMs, b.samples.map((x) => x.kind), b.samples.map((x) => pgText(x.sample))],
    );
    await client.query(
      'DELETE FROM samples WHERE app = $1 AND id <= (SELECT id FROM samples WHERE app = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)',
      [b.app, SAMPLES_PER_APP],
    );
  }
  let firstLineId: number | null = null;
  const n = b.lines.length;
  if (n > 0) {
    const seq = await client.query<{ next_seq: string }>(
      'UPDATE apps SET next_seq = next_seq + $2 WHERE name = $1 RETURNING next_seq',
      [b.app, n],
    );
    const firstSeq = Number(seq.rows[0]?.next_seq) - n + 1;
    const ids = await client.query<{ id: string }>(
      'INSERT INTO lines (app, received_ms, micros, line, seq) SELECT $1, $2, m, l, $3::bigint + o - 1 FROM unnest($4::bigint[], $5::text[]) WITH ORDINALITY AS t(m, l, o) RETURNING id',
      [
        b.app,
        b.receivedMs,
        firstSeq,
        b.lines.map((l) => l.micros),
        b.lines.map((l) => pgText(l.text)),
      ],
    );
    for (const r of ids.rows) {
      const id = Number(r.id);
      if (firstLineId === null || id < firstLineId) firstLineId = id;
    }
  }
  const traffic = new Map<number, number>();
  for (const line of b.lines) {
    if (!line.router) continue;
    const minute = line.micros === null ? minuteOfMs(b.receivedMs) : Math.floor(line.micros / 60e6);
    traffic.set(minute, (traffic.get(minute) ?? 0) + 1);
  }
  const countKeys: Array<[number, string, string, number]> = [...traffic].map(([m, c]) => [
    m,
    'requests',
    '',
    c,
  ]);
  for (const e of b.platformErrors) {
    await client.query(
      'INSERT INTO platform_errors (app, received_ms, micros, code, process, line) VALUES ($1, $2, $3, $4, $5, $6)',
      [b.app, b.receivedMs, e.micros, e.code, pgText(e.process), pgText(e.line)],
    );
    const minute = e.micros === null ? minuteOfMs(b.receivedMs) : Math.floor(e.micros / 60e6);
    countKeys.push([minute, 'platform', e.code, 1]);
  }
  // Sorted, and summed per key: one statement may not update a row twice, and a fixed order
  // keeps concurrent transactions from deadlocking on the rows.
  const counts = new Map<string, [number, string, string, number]>();
  for (const [m, kind, code, c] of countKeys) {
    const k = `${m}\n${kind}\n${code}`;
    const prev = counts.get(k);
    counts.set(k, [m, kind, code, (prev?.[3] ?? 0) + c]);
  }
  const rows = [...counts.values()].sort(
    (x, y) => x[0] - y[0] || (x[1] + x[2] < y[1] + y[2] ? -1 : 1),
  );
  if (rows.length > 0)
    await client.query(
      "INSERT INTO counts (app, minute, kind, code, cause, route, n) SELECT $1, m, k, c, '', '', n FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[]) AS t(m, k, c, n) ON CONFLICT (app, minute, kind, code, cause, route) DO UPDATE SET n = counts.n + excluded.n",
      [
        b.app,
        rows.map((r) => r[0]),
        rows.map((r) => r[1]),
        rows.map((r) => r[2]),
        rows.map((r) => r[3]),
      ],
    );
  return { stored: true, firstLineId };
}
