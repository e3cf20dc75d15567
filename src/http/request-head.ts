/**
 * The router's reading of a client's request head: what it answers itself before the app stage
 * (414, 400, 405, 505; no router line) and what it forwards, with the body framing it will
 * enforce. The probe uses the same function to say whether Heroku would forward a request, so
 * the two never disagree.
 *
 * Limits from shared/spec/heroku-router.md §1–2. Choices where the spec is silent, made for
 * safety against request smuggling (each is answered 400 and never forwarded):
 * - differing Content-Length values (identical repeats are forwarded as one), a
 *   Content-Length list (`10,10`: vegur refuses it); a final transfer coding other than
 *   `chunked`; any Transfer-Encoding on HTTP/1.0. Content-Length with chunked: chunked wins.
 * - more than 5 empty lines before the request line, a bare LF line ending, a missing or
 *   empty Host (HTTP/1.0 too): as cowboyku/vegur.
 * - header names that are not tokens, whitespace before the colon, obs-fold continuation lines,
 *   control characters in values, more than one Host.
 * - a request line that is not exactly `METHOD SP TARGET SP HTTP/x.y`, or a target with
 *   control bytes. Anything else in the target is forwarded as is: Heroku forwarded the seed's
 *   `GET ?invalid=request`, which is what made it an H13 in the app.
 * - CONNECT is answered 405 (the spec: "CONNECT is not supported").
 * Connection, Expect and Upgrade values that do not parse are app-stage errors (H26), as are
 * Expect values other than `100-continue` (417), so they are reported, not rejected, here.
 */

import { H26_CAUSES } from '../core/codes.js';
import { findHeadEnd } from './response-parser.js';
import {
  digitsValue,
  hasBadTargetByte,
  hasBadValueByte,
  isTokenList,
  isTokenRange,
  owsSlice,
} from './token.js';

export const REQUEST_LIMITS = {
  requestLine: 8192,
  headerLine: 8192,
  headerName: 1000,
  headers: 1000,
  method: 127,
} as const;

export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | {
      readonly kind: 'chunked';
      /**
       * The whole coding list when the client applied codings before chunked (`gzip,
       * chunked`): forwarded so the app can undo them. Absent for plain chunked.
       */
      readonly codings?: string;
    };

export interface RequestHead {
  readonly method: string;
  readonly target: string;
  readonly version: '1.0' | '1.1';
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Bytes consumed, leading empty lines included. */
  readonly length: number;
  readonly host: string;
  readonly framing: BodyFraming;
  readonly keepAlive: boolean;
  readonly expectContinue: boolean;
  /** The Upgrade value when the client asks for one (Connection: upgrade + Upgrade). */
  readonly upgrade: string | null;
  /** An app-stage error the router logs as H26 (with this cause), or null. */
  readonly h26: string | null;
}

export type RequestHeadResult =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'reject'; readonly status: number; readonly reason: string }
  | { readonly kind: 'head'; readonly head: RequestHead };

const INCOMPLETE: RequestHeadResult = { kind: 'incomplete' };
const PROTOCOL_LIST =
  /^\s*[!#$%&'*+\-.^_`|~0-9A-Za-z]+(\/[!#$%&'*+\-.^_`|~0-9A-Za-z]+)?\s*(,\s*[!#$%&'*+\-.^_`|~0-9A-Za-z]+(\/[!#$%&'*+\-.^_`|~0-9A-Za-z]+)?\s*)*$/;
const VERSION = /^HTTP\/(\d)\.(\d)$/;

/** `text` without SP/HTAB at either end (see owsSlice). */
const trimOws = (text: string): string => owsSlice(text, 0, text.length);

/** Append to a list made on first use. */
function add(list: string[] | null, value: string): string[] {
  if (list === null) return [value];
  list.push(value);
  return list;
}

const NO_BODY: BodyFraming = { kind: 'none' };
const CHUNKED: BodyFraming = { kind: 'chunked' };

/**
 * Empty lines accepted before a request line (RFC 9112 §2.2 says "at least one"): cowboyku,
 * vegur's HTTP layer, takes 5 (`max_empty_lines`), each a CRLF, and answers 400 past them or
 * for a bare LF.
 */
export const MAX_EMPTY_LINES = 5;
const EMPTY_LINES_REASON = 'more than 5 empty lines, or a bare LF, before the request line';
const NEED_MORE = -1;
const BAD_EMPTY_LINES = -2;

/**
 * Where the request line starts after the empty lines allowed before it (NEED_MORE: only
 * CRLFs so far; BAD_EMPTY_LINES: too many, or not CRLF). Looks at 2 × MAX_EMPTY_LINES + 1
 * bytes at most, whatever follows.
 */
export function skipEmptyLines(buf: Uint8Array, from: number): number {
  let i = from;
  for (let lines = 0; ; lines++) {
    const c = buf[i];
    if (c === undefined) return NEED_MORE;
    if (c !== 13 && c !== 10) return i;
    if (c === 10 || lines === MAX_EMPTY_LINES) return BAD_EMPTY_LINES;
    const lf = buf[i + 1];
    if (lf === undefined) return NEED_MORE;
    if (lf !== 10) return BAD_EMPTY_LINES;
    i += 2;
  }
}

const reject = (status: number, reason: string): RequestHeadResult => ({
  kind: 'reject',
  status,
  reason,
});

/** Parse a request head starting at `from`; `incomplete` until the blank line arrives. */
export function parseRequestHead(buf: Buffer, from = 0): RequestHeadResult {
  const start = skipEmptyLines(buf, from);
  if (start < 0) return start === NEED_MORE ? INCOMPLETE : reject(400, EMPTY_LINES_REASON);
  const end = findHeadEnd(buf, start);
  if (end < 0) return checkPartial(buf, start);
  const text = buf.toString('latin1', start, end);
  // Lines and fields are found with indexOf rather than split: this runs for every request.
  const firstLf = text.indexOf('\n');
  // cowboyku (vegur's HTTP layer) requires CRLF after the version; h13 answers 400.
  if (text.charCodeAt(firstLf - 1) !== 13) return reject(400, 'bare LF line ending');
  const requestLine = text.slice(0, firstLf - 1);
  if (requestLine.length > REQUEST_LIMITS.requestLine)
    return reject(414, 'request line over 8192 bytes');
  if (requestLine.includes('\r')) return reject(400, 'bare CR in request line');
  const sp1 = requestLine.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : requestLine.indexOf(' ', sp1 + 1);
  if (sp2 < 0 || requestLine.indexOf(' ', sp2 + 1) >= 0)
    return reject(400, 'request line is not METHOD SP TARGET SP VERSION');
  if (!isTokenRange(requestLine, 0, sp1)) return reject(400, 'invalid method');
  if (sp1 > REQUEST_LIMITS.method) return reject(400, 'method over 127 characters');
  const method = requestLine.slice(0, sp1);
  if (method === 'CONNECT') return reject(405, 'CONNECT is not supported');
  const target = requestLine.slice(sp1 + 1, sp2);
  if (target === '' || hasBadTargetByte(target)) return reject(400, 'invalid request target');
  const versionText = requestLine.slice(sp2 + 1);
  let version: '1.0' | '1.1' = '1.1';
  if (versionText !== 'HTTP/1.1') {
    const v = VERSION.exec(versionText);
    if (v === null) return reject(400, 'invalid HTTP version');
    if (v[1] !== '1' || (v[2] !== '0' && v[2] !== '1'))
      return reject(505, `${versionText} is not supported`);
    version = v[2] === '0' ? '1.0' : '1.1';
  }

  const headers: Array<[string, string]> = [];
  const hosts: string[] = [];
  // The rarer headers get their list only when one appears (this runs for every request).
  const none: readonly string[] = [];
  let lengths: string[] | null = null;
  let codings: string[] | null = null;
  let connection: string[] | null = null;
  let expect: string[] | null = null;
  let upgrade: string[] | null = null;
  let pos = firstLf + 1;
  let nextCr = text.indexOf('\r', pos);
  while (pos < text.length) {
    let next = text.indexOf('\n', pos);
    if (next < 0) next = text.length;
    const lineStart = pos;
    pos = next + 1;
    // Lines end with CRLF: cowboyku refuses a CR not followed by LF and folds a bare LF into
    // the value, so Heroku forwards no head with a bare LF (h13: 400).
    if (next < text.length && (next === lineStart || text.charCodeAt(next - 1) !== 13))
      return reject(400, 'bare LF line ending');
    const stop = next < text.length ? next - 1 : next;
    if (stop === lineStart) continue;
    if (stop - lineStart > REQUEST_LIMITS.headerLine)
      return reject(400, 'header line over 8192 bytes');
    // Each CR is searched for once over the whole head: a head of bare-LF lines must not
    // cost one scan to its end per line.
    if (nextCr >= 0 && nextCr < lineStart) nextCr = text.indexOf('\r', lineStart);
    if (nextCr >= 0 && nextCr < stop) return reject(400, 'bare CR in a header line');
    const first = text.charCodeAt(lineStart);
    if (first === 32 || first === 9) return reject(400, 'obs-fold continuation line');
    const colon = text.indexOf(':', lineStart);
    if (colon < 0 || colon >= stop) return reject(400, 'header line without a colon');
    if (colon - lineStart > REQUEST_LIMITS.headerName)
      return reject(400, 'header name over 1000 bytes');
    const name = text.slice(lineStart, colon);
    if (!isTokenRange(text, lineStart, colon))
      return reject(400, `invalid header name ${JSON.stringify(name.slice(0, 40))}`);
    const value = owsSlice(text, colon + 1, stop);
    if (hasBadValueByte(value)) return reject(400, `control character in ${name}`);
    if (headers.length >= REQUEST_LIMITS.headers) return reject(400, 'more than 1000 headers');
    headers.push([name, value]);
    const n = name.length;
    // Only names of these lengths can matter: skip the lowercase copy for the others.
    if (n !== 4 && n !== 14 && n !== 17 && n !== 10 && n !== 6 && n !== 7) continue;
    switch (name.toLowerCase()) {
      case 'host':
        hosts.push(value);
        break;
      case 'content-length':
        lengths = add(lengths, value);
        break;
      case 'transfer-encoding':
        codings = add(codings, value);
        break;
      case 'connection':
        connection = add(connection, value);
        break;
      case 'expect':
        expect = add(expect, value);
        break;
      case 'upgrade':
        upgrade = add(upgrade, value);
        break;
    }
  }
  if (hosts.length > 1) return reject(400, 'more than one Host header');
  // vegur_validate_headers answers 400 to an empty or missing Host, HTTP/1.0 included.
  if (hosts.length === 0 || hosts[0] === '') return reject(400, 'missing or empty Host header');

  let framing: BodyFraming = NO_BODY;
  let lengthAndCoding = false;
  if (lengths !== null) {
    // vegur_validate_headers: a Content-Length with a comma is refused, and repeated lines
    // must be identical (checked below once their values are read).
    for (const raw of lengths) if (raw.includes(',')) return reject(400, 'Content-Length list');
  }
  if (codings !== null) {
    if (version === '1.0') return reject(400, 'Transfer-Encoding in an HTTP/1.0 request');
    // RFC 9112 §6.3: chunked wins over Content-Length, which is dropped (buildRequestHead
    // writes the framing itself), and the connection is closed after the response (§6.1).
    // Heroku forwards such a request (issue 16's conformance check).
    lengthAndCoding = lengths !== null;
    const list = codings
      .join(',')
      .split(',')
      .map((c) => trimOws(c).toLowerCase());
    if (list[list.length - 1] !== 'chunked' || list.indexOf('chunked') !== list.length - 1) {
      return reject(400, `unsupported Transfer-Encoding ${JSON.stringify(codings.join(', '))}`);
    }
    framing = CHUNKED;
    if (list.length > 1) {
      // Codings applied before chunked (gzip, deflate...) are the app's to undo: forwarded,
      // each a plain token, so no coding with parameters or junk can read as `chunked` to it.
      const before = list.slice(0, -1).filter((c) => c !== '');
      for (const c of before)
        if (!isTokenRange(c, 0, c.length))
          return reject(400, `invalid transfer coding ${JSON.stringify(c.slice(0, 40))}`);
      if (before.length > 0)
        framing = { kind: 'chunked', codings: `${before.join(', ')}, chunked` };
    }
  } else if (lengths !== null) {
    let value: number | null = null;
    for (const raw of lengths) {
      for (const part of raw.split(',')) {
        const n = digitsValue(trimOws(part));
        if (n < 0) return reject(400, `invalid Content-Length ${JSON.stringify(raw)}`);
        if (value !== null && value !== n) return reject(400, 'conflicting Content-Length values');
        value = n;
      }
    }
    if (value !== null && value > 0) framing = { kind: 'length', length: value };
  }

  let h26: string | null = null;
  let tokens = none;
  if (connection !== null) {
    const connectionText = connection.join(', ');
    if (!isTokenList(connectionText)) h26 = H26_CAUSES.badHeader;
    tokens = connectionText
      .toLowerCase()
      .split(',')
      .map((t) => t.trim());
  }
  let expectContinue = false;
  if (expect !== null) {
    const expectText = expect.join(', ').trim().toLowerCase();
    if (expectText === '100-continue') expectContinue = true;
    else if (h26 === null)
      h26 =
        isTokenList(expectText) || expectText.includes('=')
          ? H26_CAUSES.expect
          : H26_CAUSES.badHeader;
  }
  const upgradeText = upgrade === null ? '' : upgrade.join(', ');
  if (upgrade !== null && !PROTOCOL_LIST.test(upgradeText) && h26 === null)
    h26 = H26_CAUSES.badHeader;
  const wantsUpgrade = upgrade !== null && tokens.includes('upgrade') && h26 === null;
  const keepAlive =
    !lengthAndCoding &&
    (version === '1.1' ? !tokens.includes('close') : tokens.includes('keep-alive'));

  return {
    kind: 'head',
    head: {
      method,
      target,
      version,
      headers,
      length: end - from,
      host: hosts[0] ?? '',
      framing,
      keepAlive,
      expectContinue,
      upgrade: wantsUpgrade ? upgradeText : null,
      h26,
    },
  };
}

/** Refuse a head that is already past a limit before its blank line arrives. */
function checkPartial(buf: Buffer, start: number): RequestHeadResult {
  const firstLf = buf.indexOf(10, start);
  if (firstLf < 0) {
    return buf.length - start > REQUEST_LIMITS.requestLine
      ? reject(414, 'request line over 8192 bytes')
      : INCOMPLETE;
  }
  const lastLf = buf.lastIndexOf(10);
  if (buf.length - (lastLf + 1) > REQUEST_LIMITS.headerLine)
    return reject(400, 'header line over 8192 bytes');
  const maxHead =
    REQUEST_LIMITS.requestLine + (REQUEST_LIMITS.headerLine + 2) * REQUEST_LIMITS.headers;
  if (buf.length - start > maxHead) return reject(400, 'request head too large');
  return INCOMPLETE;
}
