/**
 * What both stores (sqlite-store.ts, pg-store.ts) do with the rows they read: the same
 * columns (schema.ts) become the same Store answers. Each store runs its own SQL; the shaping,
 * and the request search's logic, live here once. Numbers come back as number (PostgreSQL's
 * BIGINT as a string, SQLite's as a number or bigint).
 */

import type { DiagnosisJson } from '../analyze/report.js';
import { formatTimestamp } from '../core/heroku-log.js';
import type {
  AppSummary,
  CountRow,
  RequestQuery,
  RequestTrail,
  StoredPlatformError,
} from './store.js';
import { REQUEST_SCAN_LINES, REQUEST_WINDOW_MS } from './store.js';

export type Row = Record<string, unknown>;

export const num = (v: unknown): number => Number(v);

/**
 * Text as both stores can keep it: NUL becomes U+FFFD (as invalid UTF-8 does). PostgreSQL's
 * text refuses NUL, and node:sqlite on Node 22 cuts a bound string at its first NUL (found by
 * the store suite: a line `a\0b` came back as `a`).
 */
export const storedText = (s: string): string =>
  s.includes('\0') ? s.replaceAll('\0', '\uFFFD') : s;

export function countRow(r: Row): CountRow {
  return {
    minute: num(r.minute),
    kind: r.kind as string,
    code: r.code as string,
    cause: r.cause as string,
    route: r.route as string,
    n: num(r.n),
  };
}

export function platformErrorRow(r: Row): StoredPlatformError {
  return {
    time: r.micros === null ? null : formatTimestamp(num(r.micros)),
    code: r.code as string,
    process: r.process as string,
    line: r.line as string,
  };
}

export const diagnosisBody = (r: Row): DiagnosisJson =>
  JSON.parse(r.body as string) as DiagnosisJson;

/** `{app, k, n}` rows as app → {k: n}. */
export function groupByApp(rows: readonly Row[]): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const r of rows) {
    const m = out.get(r.app as string) ?? {};
    m[r.k as string] = num(r.n);
    out.set(r.app as string, m);
  }
  return out;
}

export interface AppSummaryRows {
  /** name, first_seen_ms, last_seen_ms, ordered by name. */
  readonly apps: readonly Row[];
  /** app, k (counter), n. */
  readonly counters: readonly Row[];
  /** app, k (code), n: diagnoses. */
  readonly byCode: readonly Row[];
  /** app, k (code), n: platform errors. */
  readonly platform: readonly Row[];
  /** app, token, ordered by token. */
  readonly tokens: readonly Row[];
  /** An app's latest bad-input samples (kind, received_ms, sample), newest first. */
  readonly samples: (app: string) => readonly Row[];
}

export function appSummaries(rows: AppSummaryRows): AppSummary[] {
  const counters = groupByApp(rows.counters);
  const byCode = groupByApp(rows.byCode);
  const platform = groupByApp(rows.platform);
  const tokens = new Map<string, string[]>();
  for (const r of rows.tokens) {
    const list = tokens.get(r.app as string) ?? [];
    list.push(r.token as string);
    tokens.set(r.app as string, list);
  }
  return rows.apps.map((r) => {
    const name = r.name as string;
    const codes = byCode.get(name) ?? {};
    return {
      name,
      firstSeen: new Date(num(r.first_seen_ms)).toISOString(),
      lastSeen: new Date(num(r.last_seen_ms)).toISOString(),
      counters: counters.get(name) ?? {},
      diagnoses: Object.values(codes).reduce((a, b) => a + b, 0),
      byCode: codes,
      platformErrors: platform.get(name) ?? {},
      drainTokens: tokens.get(name) ?? [],
      badInput: rows.samples(name).map((x) => ({
        kind: x.kind as string,
        time: new Date(num(x.received_ms)).toISOString(),
        sample: x.sample as string,
      })),
    };
  });
}

/** The reads the request search needs, each store in its own SQL. */
export interface RequestReads {
  /** app, micros, body of the diagnoses with this request id, by time. */
  diagnoses(requestId: string, limit: number): Promise<Row[]>;
  /** id, app, micros, line of an app's lines between two times that contain `text`. */
  linesAround(
    app: string,
    fromMicros: number,
    toMicros: number,
    text: string,
    limit: number,
  ): Promise<Row[]>;
  /** id, app, micros, line among the latest `scan` lines that contain `text`. */
  latestLines(scan: number, text: string, limit: number): Promise<Row[]>;
  apps(): Promise<string[]>;
}

/** Store.request, as both stores answer it (see the interface). */
export async function followRequest(q: RequestQuery, reads: RequestReads): Promise<RequestTrail> {
  const diagnoses = await reads.diagnoses(q.requestId, q.limit);
  const windowUs = REQUEST_WINDOW_MS * 1000;
  const anchors: Array<{ app: string | null; micros: number }> = diagnoses.map((r) => ({
    app: r.app as string,
    micros: num(r.micros),
  }));
  if (q.aroundMicros !== null) anchors.push({ app: null, micros: q.aroundMicros });
  const seen = new Set<number>();
  const found: Array<{ id: number; app: string; micros: number | null; line: string }> = [];
  const keep = (rows: readonly Row[]) => {
    for (const r of rows) {
      const id = num(r.id);
      if (seen.has(id) || found.length >= q.limit) continue;
      seen.add(id);
      found.push({
        id,
        app: r.app as string,
        micros: r.micros === null ? null : num(r.micros),
        line: r.line as string,
      });
    }
  };
  for (const a of anchors) {
    const apps = a.app === null ? await reads.apps() : [a.app];
    for (const app of apps)
      keep(
        await reads.linesAround(
          app,
          a.micros - windowUs,
          a.micros + windowUs,
          q.requestId,
          q.limit,
        ),
      );
  }
  let latestLines = 0;
  if (anchors.length === 0) {
    latestLines = REQUEST_SCAN_LINES;
    keep(await reads.latestLines(REQUEST_SCAN_LINES, q.requestId, q.limit));
  }
  found.sort((x, y) => (x.micros ?? 0) - (y.micros ?? 0) || x.id - y.id);
  return {
    requestId: q.requestId,
    diagnoses: diagnoses.map((r) => ({ app: r.app as string, ...diagnosisBody(r) })),
    lines: found.map((l) => ({
      app: l.app,
      time: l.micros === null ? null : formatTimestamp(l.micros),
      line: l.line,
    })),
    searched: { around: anchors.map((a) => formatTimestamp(a.micros)), latestLines },
  };
}
