/**
 * One logplex frame (`<PRI>1 TIMESTAMP HOST APP PROC MSGID MESSAGE`, RFC 5424 without the
 * structured-data field, as heroku/logplex doc/README.http_drains.md says) as the
 * `heroku logs` line it stands for: `TIMESTAMP SOURCE[PROC]: MESSAGE`. Stored lines then read
 * the way users see them, and the analyzer reads the format it knows best.
 *
 * Which slot holds `heroku`/`app` varies between samples (the drain token sometimes sits in
 * HOST, sometimes the fields shift): the source is the first of HOST, APP, PROC that says
 * `heroku` or `app` (shared/spec/heroku-router.md, "Log drains"). Any other sender's frames
 * keep APP-NAME as the source, as RFC 5424 defines it.
 */

import { formatTimestamp, parseTimestampMicros } from '../core/heroku-log.js';

export interface LogRecord {
  readonly micros: number;
  readonly source: string;
  readonly process: string;
  readonly message: string;
  /**
   * The frame's timestamp when it is already what formatTimestamp(micros) writes (logplex's
   * form, `2026-03-02T10:15:05.010002+00:00`): its lines reuse it rather than format it again.
   */
  readonly stamp?: string;
}

const FRAME = /^<(\d{1,3})>\d{1,2} (\S+) (\S+) (\S+) (\S+)(?: (.*))?$/s;
const SOURCES = new Set(['heroku', 'app']);
const SOURCE_OK = /^[A-Za-z0-9_-]{1,64}$/;
const PROCESS_OK = /^[^\]\s]{1,128}$/;

/** `DDDD-DD-DDTDD:DD:DD.DDDDDD+00:00`, checked by character (D a digit). */
function canonicalShape(ts: string): boolean {
  if (ts.length !== 32) return false;
  for (let i = 0; i < 32; i++) {
    const c = ts.charCodeAt(i);
    const want = STAMP_SHAPE.charCodeAt(i);
    if (want === 68 /* D */ ? c < 48 || c > 57 : c !== want) return false;
  }
  return true;
}
const STAMP_SHAPE = 'DDDD-DD-DDTDD:DD:DD.DDDDDD+00:00';

/** The second last read (`2026-03-02T10:15:05`) and its epoch micros; NaN if not canonical. */
let cachedSecond = '';
let cachedSecondMicros = Number.NaN;

/**
 * Micros of a timestamp in logplex's own form, with Date.parse run once per second of log
 * time rather than once per line; null for any other form (parseTimestampMicros reads it).
 * A second Date reads as another time (`T24:00:00`) or not at all is not canonical, so the
 * stamp is reused only when formatTimestamp would have written the same string.
 */
function canonicalMicros(ts: string): number | null {
  if (!canonicalShape(ts)) return null;
  if (cachedSecond === '' || !ts.startsWith(cachedSecond)) {
    const second = ts.slice(0, 19);
    const ms = Date.parse(`${second}Z`);
    cachedSecond = second;
    cachedSecondMicros =
      !Number.isNaN(ms) && new Date(ms).toISOString().startsWith(second) ? ms * 1000 : Number.NaN;
  }
  if (Number.isNaN(cachedSecondMicros)) return null;
  let fraction = 0;
  for (let i = 20; i < 26; i++) fraction = fraction * 10 + ts.charCodeAt(i) - 48;
  return cachedSecondMicros + fraction;
}

/** The record a frame holds, or null when it is not a frame we can read. */
export function parseFrame(frame: string): LogRecord | null {
  const m = FRAME.exec(frame);
  if (m === null || Number(m[1]) > 191) return null;
  const ts = m[2] as string;
  const canonical = canonicalMicros(ts);
  const micros = canonical ?? parseTimestampMicros(ts);
  if (Number.isNaN(micros)) return null;
  const host = m[3] as string;
  const app = m[4] as string;
  const proc = m[5] as string;
  const rest = m[6] ?? '';
  let source: string;
  let process: string;
  let message: string;
  if (SOURCES.has(host)) {
    source = host;
    process = app;
    message = `${proc} ${rest}`;
  } else if (SOURCES.has(app) || !SOURCES.has(proc)) {
    source = app;
    process = proc;
    message = rest;
  } else {
    source = proc;
    const sp = rest.indexOf(' ');
    process = sp < 0 ? rest : rest.slice(0, sp);
    message = sp < 0 ? '' : rest.slice(sp + 1);
  }
  // The MSGID slot logplex fills with `-`.
  if (message === '-') message = '';
  else if (message.startsWith('- ')) message = message.slice(2);
  if (!SOURCE_OK.test(source) || !PROCESS_OK.test(process)) return null;
  return canonical === null
    ? { micros, source, process, message }
    : { micros, source, process, message, stamp: ts };
}

/**
 * The `heroku logs` lines of a record: one per line of its message (a frame carrying a
 * newline would otherwise give the analyzer a line with no head). Written as
 * core/heroku-log.ts formatLogLine writes them, with the frame's stamp when it has one.
 */
export function herokuLines(r: LogRecord): string[] {
  const head = `${r.stamp ?? formatTimestamp(r.micros)} ${r.source}[${r.process}]: `;
  const m = r.message;
  // Most messages are one line: no split, no array of parts.
  if (m.indexOf('\n') < 0) return [head + (m.endsWith('\r') ? m.slice(0, -1) : m)];
  const parts = m.split('\n');
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    let p = parts[i] as string;
    if (p.endsWith('\r')) p = p.slice(0, -1);
    if (p === '' && parts.length > 1) continue;
    out.push(head + p);
  }
  return out;
}
