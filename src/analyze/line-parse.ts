/**
 * One input line (or drain frame) to its timestamp, source, process and message, whatever
 * the format: `heroku logs` / `h13 run` lines, Papertrail (syslog text and archive TSV),
 * syslog / logplex drain frames, `h13 run --log-format json`. Results are written into a
 * caller-owned scratch object so the per-line path allocates only the strings it keeps.
 */

import type { TimestampReader } from './timestamp.js';
import { syslogMicros } from './timestamp.js';

/** `[A-Za-z0-9_-]`: the characters of a log source name (`heroku`, `app`); shared by both readers. */
export function isSourceChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45
  );
}

export type InputFormat = 'heroku' | 'papertrail' | 'syslog' | 'json';

export const INPUT_FORMATS: readonly InputFormat[] = ['heroku', 'papertrail', 'syslog', 'json'];

export interface Scratch {
  format: InputFormat;
  /** Epoch microseconds; NaN when the line has none (it is then placed at the last time seen). */
  micros: number;
  /** `heroku` or `app` (or whatever the line says). */
  source: string;
  /** `router`, `web.1`, `api`. */
  process: string;
  message: string;
}

export function createScratch(): Scratch {
  return { format: 'heroku', micros: Number.NaN, source: '', process: '', message: '' };
}

/** `heroku[router]: ` right after the timestamp: the hot path checks this before anything. */
export const ROUTER_TAG = 'heroku[router]: ';

/**
 * `TIMESTAMP SOURCE[PROCESS]: MESSAGE` in `text[start, end)`. Returns the offset of the
 * message, or -1. Sets micros, source and process, not message (the caller slices it when
 * it needs it).
 */
export function parseHerokuAt(
  text: string,
  start: number,
  end: number,
  ts: TimestampReader,
  out: Scratch,
): number {
  const sp = text.indexOf(' ', start + 19);
  if (sp < 0 || sp >= end || sp - start > 40) return -1;
  const micros = ts.read(text, start, sp);
  if (Number.isNaN(micros)) return -1;
  const srcStart = sp + 1;
  if (text.startsWith(ROUTER_TAG, srcStart)) {
    out.micros = micros;
    out.source = 'heroku';
    out.process = 'router';
    out.format = 'heroku';
    return srcStart + ROUTER_TAG.length;
  }
  let i = srcStart;
  const limit = Math.min(end, srcStart + 64);
  while (i < limit) {
    if (isSourceChar(text.charCodeAt(i))) {
      i++;
      continue;
    }
    break;
  }
  if (i === srcStart || text.charCodeAt(i) !== 91 /* [ */) return -1;
  const br = i;
  i++;
  while (i < limit) {
    const c = text.charCodeAt(i);
    if (c === 93 || c === 32 || c === 9) break;
    i++;
  }
  if (i === br + 1 || text.charCodeAt(i) !== 93 || text.charCodeAt(i + 1) !== 58) return -1;
  out.micros = micros;
  out.source = text.slice(srcStart, br);
  out.process = text.slice(br + 1, i);
  out.format = 'heroku';
  let msg = i + 2;
  if (msg < end && text.charCodeAt(msg) === 32) msg++;
  return Math.min(msg, end);
}

const SYSLOG = /^<(\d{1,3})>(?:\d{1,2} )?(\S+) (\S+) (\S+) (\S+)(?: (\S+))?(?: (.*))?$/s;
const SOURCES = new Set(['heroku', 'app']);

/**
 * One RFC 5424-ish frame: `<PRI>1 TIMESTAMP HOST APP PROC - MESSAGE`. Logplex puts the drain
 * token in HOST on some drains and leaves APP/PROC as `heroku router` / `app web.1`; others
 * shift the fields. The source is the first of the three slots that says `heroku` or `app`.
 */
export function parseSyslogFrame(frame: string, ts: TimestampReader, out: Scratch): boolean {
  const m = SYSLOG.exec(frame);
  if (m === null) return false;
  const stamp = m[2] as string;
  const micros = ts.read(stamp, 0, stamp.length);
  if (Number.isNaN(micros)) return false;
  const slots = [m[3] as string, m[4] as string, m[5] as string, m[6] ?? ''];
  let at = -1;
  for (let k = 0; k < 3; k++) {
    if (SOURCES.has(slots[k] as string) && (slots[k + 1] as string) !== '') {
      at = k;
      break;
    }
  }
  if (at < 0) return false;
  out.format = 'syslog';
  out.micros = micros;
  out.source = slots[at] as string;
  out.process = slots[at + 1] as string;
  // Slots after PROC: the MSGID (`-`) is dropped; anything else belongs to the message.
  const after = slots.slice(at + 2).filter((s) => s !== '');
  if (after[0] === '-') after.shift();
  const rest = m[7];
  const words = rest === undefined ? after : [...after, rest];
  out.message = words.join(' ');
  return true;
}

/**
 * A line holding one or more octet-counted frames (`LEN <PRI>...`), as a syslog drain or a
 * logplex HTTPS body sends them, possibly with no newline between frames. Returns the frames
 * and whether the last one was cut short (its LEN runs past the line); null when the line
 * does not start with a frame.
 */
export function splitFrames(line: string): { frames: string[]; truncated: number } | null {
  const frames: string[] = [];
  let truncated = 0;
  let i = 0;
  const n = line.length;
  while (i < n) {
    let j = i;
    while (j < n && j - i < 8) {
      const c = line.charCodeAt(j);
      if (c < 48 || c > 57) break;
      j++;
    }
    if (j === i || line.charCodeAt(j) !== 32 || line.charCodeAt(j + 1) !== 60 /* < */) {
      if (frames.length === 0) return null;
      // What follows the last frame is not a frame: keep it as one (it will not parse).
      frames.push(line.slice(i));
      break;
    }
    const len = Number(line.slice(i, j));
    const bodyStart = j + 1;
    let bodyEnd = bodyStart + len;
    if (bodyEnd > n) {
      // LEN counts a trailing newline the line splitter removed: that is a whole frame.
      if (bodyEnd > n + 1) truncated++;
      bodyEnd = n;
    }
    let frame = line.slice(bodyStart, bodyEnd);
    if (frame.endsWith('\n')) frame = frame.slice(0, -1);
    frames.push(frame);
    i = bodyEnd;
    while (i < n && line.charCodeAt(i) === 32) i++;
  }
  return { frames, truncated };
}

const PAPERTRAIL =
  /^([A-Z][a-z]{2}) +(\d{1,2}) (\d\d:\d\d:\d\d) (\S+) (heroku|app)\/([^:\s]+): ?(.*)$/s;

/** `Mar  2 10:15:04 myapp heroku/router: at=...` (Papertrail's log view and CLI). */
export function parsePapertrail(line: string, nowMs: number, out: Scratch): boolean {
  const m = PAPERTRAIL.exec(line);
  if (m === null) return false;
  const micros = syslogMicros(m[1] as string, Number(m[2]), m[3] as string, nowMs);
  if (Number.isNaN(micros)) return false;
  out.format = 'papertrail';
  out.micros = micros;
  out.source = m[5] as string;
  out.process = m[6] as string;
  out.message = m[7] as string;
  return true;
}

const TSV_TIME = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d(?:\.\d+)?) ?(Z|[+-]\d\d:?\d\d)?$/;

/**
 * Papertrail's archive TSV: id, generated_at, received_at, source_id, source_name,
 * source_ip, facility, severity, program (`heroku/router`, `app/web.1`), message.
 */
export function parsePapertrailTsv(line: string, ts: TimestampReader, out: Scratch): boolean {
  const cols = line.split('\t');
  if (cols.length < 10) return false;
  const program = cols[8] as string;
  const slash = program.indexOf('/');
  if (slash <= 0) return false;
  const t = TSV_TIME.exec(cols[1] as string);
  if (t === null) return false;
  let zone = t[3] ?? 'Z';
  if (zone.length === 5) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const stamp = `${t[1]}T${t[2]}${zone}`;
  const micros = ts.read(stamp, 0, stamp.length);
  if (Number.isNaN(micros)) return false;
  out.format = 'papertrail';
  out.micros = micros;
  out.source = program.slice(0, slash);
  out.process = program.slice(slash + 1);
  out.message = cols.slice(9).join('\t');
  return true;
}

/** `h13 run --log-format json`: {"timestamp","source","process","message",...fields}. */
export function parseJsonLine(line: string, ts: TimestampReader, out: Scratch): boolean {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return false;
  }
  if (typeof value !== 'object' || value === null) return false;
  const o = value as Record<string, unknown>;
  const { timestamp, source, process: proc, message } = o;
  if (
    typeof timestamp !== 'string' ||
    typeof source !== 'string' ||
    typeof proc !== 'string' ||
    typeof message !== 'string'
  ) {
    return false;
  }
  const micros = ts.read(timestamp, 0, timestamp.length);
  if (Number.isNaN(micros)) return false;
  out.format = 'json';
  out.micros = micros;
  out.source = source;
  out.process = proc;
  out.message = message;
  return true;
}

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** `heroku logs` on a terminal colours its prefixes; piped through `script` they survive. */
export function stripAnsi(line: string): string {
  return line.replace(ANSI, '');
}

/** Escaped, bounded text of a line for display in reports (never raw control bytes). */
export function displaySample(line: string, max = 240): string {
  const cut = line.length > max ? line.slice(0, max) : line;
  const escaped = cut.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufffd]/g, (c) =>
    c === '\ufffd' ? '\\ufffd' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return line.length > max ? `${escaped}… (${line.length} chars)` : escaped;
}
