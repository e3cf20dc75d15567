/**
 * The head of an HTTP/1.x response as the router reads it: where it ends, its status line and
 * header lines, and the ways a head breaks the router's rules (H17 malformed, H25 oversized).
 * Framing and the body are ResponseParser's (response-parser.ts); this module only reads lines.
 *
 * Rules (shared/spec/heroku-router.md §1, §2): the status line must be `HTTP/1.0 ` or
 * `HTTP/1.1 ` and three digits; each header line needs a colon and a token name (obs-fold is
 * refused); a status line over 8192 bytes, a header line over 512 KiB and a Set-Cookie line
 * over 8192 bytes are H25. Bare LF line ends are accepted, as most proxies do.
 *
 * A choice where the spec is silent: a header value with a control character other than HTAB
 * (a bare CR, NUL, VT...) is H17 too, as the request side refuses it. Relayed, a bare CR would
 * end the head early for a lenient client, and `chunked\x0b` would be framed one way by the
 * router and another by a client that trims more than SP/HTAB. Only with `restrict`: a client
 * reading whatever came back (probe, bad-client) takes such values as they are.
 */

import { H25_DESCS } from '../core/codes.js';
import { hasBadValueByte, isTokenRange, owsSlice } from './token.js';

export const RESPONSE_LIMITS = {
  statusLine: 8192,
  headerLine: 512 * 1024,
  setCookieLine: 8192,
  /** Past this the head is refused as oversized whatever its lines. */
  head: 1024 * 1024,
} as const;

export interface ResponseHead {
  readonly version: '1.0' | '1.1';
  readonly status: number;
  readonly reason: string;
  /** In the order received, names as the peer spelled them. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Bytes of the head, blank line included. */
  readonly length: number;
}

export interface ResponseFault {
  readonly code: 'H17' | 'H25';
  /** The exact desc for H25; the H17 desc is fixed. */
  readonly desc: string | null;
  readonly detail: string;
}

export function responseFault(
  code: 'H17' | 'H25',
  detail: string,
  desc: string | null = null,
): ResponseFault {
  return { code, desc, detail };
}

export function headerValues(
  head: ResponseHead | { headers: ResponseHead['headers'] },
  name: string,
): string[] {
  const out: string[] = [];
  for (const [k, v] of head.headers)
    if (k.length === name.length && k.toLowerCase() === name) out.push(v);
  return out;
}

/** Index just past the blank line ending a head (CRLFCRLF, or bare LFs), or -1. */
export function findHeadEnd(buf: Buffer, from: number): number {
  let i = buf.indexOf(10, from);
  while (i >= 0) {
    const next = buf[i + 1];
    if (next === 10) return i + 2;
    if (next === 13 && buf[i + 2] === 10) return i + 3;
    if (next === undefined || (next === 13 && buf[i + 2] === undefined)) return -1;
    i = buf.indexOf(10, i + 1);
  }
  return -1;
}

/**
 * A head still arriving (from `offset`, no blank line yet) that is already condemned: too
 * long for its limits, or not starting like HTTP. Waiting for the rest would only buffer more.
 */
export function checkPartialHead(
  buf: Buffer,
  offset: number,
  /** Bytes after the last LF, when the caller keeps count (else found by a scan). */
  lineBytes?: number,
): ResponseFault | null {
  const size = buf.length - offset;
  const firstLf = buf.indexOf(10, offset);
  if (firstLf < 0 && size > RESPONSE_LIMITS.statusLine) {
    return responseFault('H25', 'status line over 8192 bytes', H25_DESCS.statusLine);
  }
  // A head that cannot be HTTP is malformed as soon as its first bytes say so.
  const probe = buf.toString('latin1', offset, Math.min(buf.length, offset + 9));
  if (!'HTTP/1.1 '.startsWith(probe) && !'HTTP/1.0 '.startsWith(probe)) {
    return responseFault('H17', `response starts with ${JSON.stringify(probe)}`);
  }
  let line = lineBytes;
  if (line === undefined) {
    const lastLf = buf.lastIndexOf(10);
    line = buf.length - (lastLf < offset ? offset : lastLf + 1);
  }
  if (line > RESPONSE_LIMITS.headerLine) {
    return responseFault('H25', 'header line over 512 KiB', H25_DESCS.header);
  }
  if (size > RESPONSE_LIMITS.head)
    return responseFault('H25', 'response head over 1 MiB', H25_DESCS.header);
  return null;
}

/**
 * The status line `HTTP/1.x DDD[ reason]` (status 100-999, no control character in the
 * reason, with `restrict`): its version digit, status and reason, or null. Checked by character rather than by a regular expression with captures:
 * this runs for every relayed response.
 */
function statusLineParts(
  line: string,
  restrict: boolean,
): { minor: number; status: number; reason: string } | null {
  const n = line.length;
  if (n < 12 || !line.startsWith('HTTP/1.')) return null;
  const minor = line.charCodeAt(7) - 48;
  if ((minor !== 0 && minor !== 1) || line.charCodeAt(8) !== 32) return null;
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return null;
    status = status * 10 + d;
  }
  // `000`-`099` would be relayed as `HTTP/1.1 0 ...`, a status line no client can read.
  if (status < 100) return null;
  if (n === 12) return { minor, status, reason: '' };
  if (line.charCodeAt(12) !== 32) return null;
  const reason = line.slice(13);
  // RFC 9112 §4: the reason is HTAB, SP, VCHAR and obs-text; a NUL or ESC relayed in it
  // reaches the client's parser or terminal (H17, as in a header value; only with `restrict`).
  if (restrict ? hasBadValueByte(reason) : reason.includes('\r')) return null;
  return { minor, status, reason };
}

/**
 * Read a complete head (`text`, blank line included, `length` bytes). `restrict: false` skips
 * the H25 size limits, for clients that want to read whatever came back. Values lose their
 * optional whitespace (SP, HTAB) at both ends and nothing else.
 */
export function parseResponseHead(
  text: string,
  length: number,
  restrict: boolean,
): ResponseHead | ResponseFault {
  // Lines are walked with indexOf rather than split + a regex per line: this runs for every
  // relayed response.
  let lineEnd = text.indexOf('\n');
  if (lineEnd < 0) lineEnd = text.length;
  const statusLine = text.slice(0, text.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd);
  if (restrict && statusLine.length > RESPONSE_LIMITS.statusLine) {
    return responseFault('H25', 'status line over 8192 bytes', H25_DESCS.statusLine);
  }
  const status = statusLineParts(statusLine, restrict);
  if (status === null)
    return responseFault('H17', `status line ${JSON.stringify(statusLine.slice(0, 64))}`);
  const headers: Array<[string, string]> = [];
  let pos = lineEnd + 1;
  while (pos < text.length) {
    let next = text.indexOf('\n', pos);
    if (next < 0) next = text.length;
    const stop = text.charCodeAt(next - 1) === 13 && next - 1 >= pos ? next - 1 : next;
    const start = pos;
    pos = next + 1;
    const size = stop - start;
    if (size === 0) continue;
    if (restrict && size > RESPONSE_LIMITS.headerLine) {
      return responseFault('H25', 'header line over 512 KiB', H25_DESCS.header);
    }
    const colon = text.indexOf(':', start);
    if (colon < 0 || colon >= stop || colon === start) {
      const line = text.slice(start, stop);
      return responseFault(
        'H17',
        `header line without a colon: ${JSON.stringify(line.slice(0, 64))}`,
      );
    }
    if (!isTokenRange(text, start, colon)) {
      const name = text.slice(start, colon);
      return responseFault('H17', `header name ${JSON.stringify(name.slice(0, 64))}`);
    }
    const name = text.slice(start, colon);
    if (restrict && size > RESPONSE_LIMITS.setCookieLine && name.toLowerCase() === 'set-cookie') {
      return responseFault('H25', `Set-Cookie line of ${size} bytes`, H25_DESCS.cookie);
    }
    const value = owsSlice(text, colon + 1, stop);
    if (restrict && hasBadValueByte(value))
      return responseFault(
        'H17',
        `control character in the ${JSON.stringify(name.slice(0, 64))} value`,
      );
    headers.push([name, value]);
  }
  return {
    version: status.minor === 0 ? '1.0' : '1.1',
    status: status.status,
    reason: status.reason,
    headers,
    length,
  };
}
