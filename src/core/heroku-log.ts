/**
 * The `heroku logs` line: `TIMESTAMP SOURCE[PROCESS]: MESSAGE`, timestamps in RFC 3339 with
 * microseconds and `+00:00` (shared/spec/heroku-router.md §4).
 */

import { performance } from 'node:perf_hooks';

/** Microseconds since the epoch, from the monotonic clock anchored at process start. */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

let cachedSecond = -1;
let cachedPrefix = '';

/** `2026-03-02T10:15:04.123456+00:00`; the date part is cached per second (one per log line). */
export function formatTimestamp(micros: number = nowMicros()): string {
  const second = Math.floor(micros / 1_000_000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 19);
  }
  const fraction = String(micros - second * 1_000_000).padStart(6, '0');
  return `${cachedPrefix}.${fraction}+00:00`;
}

/** Sources h13 writes; `app[api]` carries releases, `heroku[web.N]` the dyno manager. */
export function formatLogLine(
  micros: number,
  source: string,
  processName: string,
  message: string,
): string {
  return `${formatTimestamp(micros)} ${source}[${processName}]: ${message}`;
}

export interface HerokuLogLine {
  readonly timestamp: string;
  /** Microseconds since the epoch, or NaN when the timestamp does not parse. */
  readonly micros: number;
  readonly source: string;
  readonly process: string;
  readonly message: string;
}

const LINE =
  /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.(\d{1,9}))?(?:Z|[+-]\d\d:?\d\d)) ([A-Za-z0-9_-]+)\[([^\]\s]+)\]: ?(.*)$/s;

/** Parse one `heroku logs` line; null when it is not in that shape. */
export function parseHerokuLine(line: string): HerokuLogLine | null {
  const m = LINE.exec(line);
  if (m === null) return null;
  const timestamp = m[1] as string;
  return {
    timestamp,
    micros: parseTimestampMicros(timestamp),
    source: m[3] as string,
    process: m[4] as string,
    message: m[5] as string,
  };
}

/** RFC 3339 to epoch microseconds, keeping the sub-millisecond digits Date drops. */
export function parseTimestampMicros(timestamp: string): number {
  const ms = Date.parse(timestamp);
  if (Number.isNaN(ms)) return Number.NaN;
  const frac = /\.(\d+)/.exec(timestamp)?.[1];
  if (frac === undefined) return ms * 1000;
  const micros = Number((frac + '000000').slice(0, 6));
  return Math.floor(ms / 1000) * 1_000_000 + micros;
}
