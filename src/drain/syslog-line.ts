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

import { formatLogLine, parseTimestampMicros } from '../core/heroku-log.js';

export interface LogRecord {
  readonly micros: number;
  readonly source: string;
  readonly process: string;
  readonly message: string;
}

const FRAME = /^<(\d{1,3})>\d{1,2} (\S+) (\S+) (\S+) (\S+)(?: (.*))?$/s;
const SOURCES = new Set(['heroku', 'app']);
const SOURCE_OK = /^[A-Za-z0-9_-]{1,64}$/;
const PROCESS_OK = /^[^\]\s]{1,128}$/;

/** The record a frame holds, or null when it is not a frame we can read. */
export function parseFrame(frame: string): LogRecord | null {
  const m = FRAME.exec(frame);
  if (m === null || Number(m[1]) > 191) return null;
  const micros = parseTimestampMicros(m[2] as string);
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
  return { micros, source, process, message };
}

/**
 * The `heroku logs` lines of a record: one per line of its message (a frame carrying a
 * newline would otherwise give the analyzer a line with no head).
 */
export function herokuLines(r: LogRecord): string[] {
  const parts = r.message.split('\n');
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    let p = parts[i] as string;
    if (p.endsWith('\r')) p = p.slice(0, -1);
    if (p === '' && parts.length > 1) continue;
    out.push(formatLogLine(r.micros, r.source, r.process, p));
  }
  return out;
}
