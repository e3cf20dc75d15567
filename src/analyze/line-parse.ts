/**
 * What every input format shares: the scratch record a line is read into (caller-owned, so
 * the per-line path allocates only the strings it keeps), the `heroku logs` head reader the
 * fast path uses, and the escaping of lines shown in reports. The formats themselves are
 * modules under formats/.
 */

import type { TimestampReader } from './timestamp.js';

/** `[A-Za-z0-9_-]`: the characters of a log source name (`heroku`, `app`); shared by both readers. */
export function isSourceChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45
  );
}

export interface Scratch {
  /** The id of the format read (formats/index.ts). */
  format: string;
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
