/**
 * The heads the router re-serializes (spec §3): the request head sent to the dyno, with
 * Heroku's headers added and hop-by-hop headers removed, and the response head relayed to the
 * client, with Via (and Date/Server when missing) added and hop-by-hop headers removed.
 *
 * Both are built by string concatenation in one pass; names are compared by length first so
 * the common headers cost no lowercase copy.
 */

import type { RequestHead } from '../http/request-head.js';
import type { ResponseHead } from '../http/response-parser.js';
import { sameLower } from '../http/token.js';
import { httpDate } from './http-date.js';

/** Headers the router sets itself: a client's copy is dropped, never forwarded. */
const REPLACED = new Set([
  'x-request-id',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-request-start',
  'connect-time',
  'total-route-time',
]);
/**
 * Headers a `Connection: <token>` list may never remove. A client that lists
 * `content-length` there must not make the router forward a body with no framing: the app
 * would read that body as a second, hidden request (request smuggling).
 */
const NOT_HOP_BY_HOP = new Set(['host', 'content-length', 'transfer-encoding']);

/** Connection, Keep-Alive, TE, Proxy-Authorization, in any case: never relayed. */
function isHopByHop(name: string): boolean {
  switch (name.length) {
    case 2:
      return sameLower(name, 'te');
    case 10:
      return sameLower(name, 'connection') || sameLower(name, 'keep-alive');
    case 19:
      return sameLower(name, 'proxy-authorization');
    default:
      return false;
  }
}

/**
 * Lowercased tokens of every Connection header: they name more hop-by-hop headers. A Set, so
 * checking every header against them costs headers + tokens, not headers × tokens (a client
 * may send a thousand headers and megabytes of tokens).
 */
export function connectionTokens(
  headers: ReadonlyArray<readonly [string, string]>,
): Set<string> | null {
  let tokens: Set<string> | null = null;
  for (const [name, value] of headers) {
    if (name.length !== 10 || !sameLower(name, 'connection')) continue;
    // What nearly every peer sends names no other header: no split, no copies.
    if (sameLower(value, 'keep-alive') || sameLower(value, 'close')) continue;
    for (const t of value.split(',')) {
      const token = t.trim().toLowerCase();
      if (
        token === '' ||
        token === 'close' ||
        token === 'keep-alive' ||
        token === 'upgrade' ||
        NOT_HOP_BY_HOP.has(token)
      )
        continue;
      if (tokens === null) tokens = new Set();
      tokens.add(token);
    }
  }
  return tokens;
}

/**
 * `x-request-ID` → `X-Request-Id`: the legacy router's header casing both ways (cowboyku
 * lowercases names as it parses, vegur_client writes them with capitalize_token).
 */
export function capitalizeToken(name: string): string {
  let out = '';
  let upper = true;
  for (let i = 0; i < name.length; i++) {
    const ch = name[i] as string;
    out += upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = ch === '-';
  }
  return out;
}

export interface ForwardContext {
  readonly requestId: string;
  /** The X-Forwarded-For value to send (client IP appended). */
  readonly fwd: string;
  readonly via: string;
  readonly port: number;
  readonly requestStartMs: number;
  readonly connectMs: number;
  readonly totalRouteMs: number;
  /** Router 2.0 keeps dyno connections; legacy asks for a close. */
  readonly keepAlive: boolean;
  /** Legacy: header names Capitalized-Like-This (capitalizeToken). */
  readonly capitalize?: boolean;
  /** Legacy: every request goes to the dyno as HTTP/1.1 (vegur_proxy send_headers). */
  readonly asHttp11?: boolean;
  /**
   * Legacy: the client's address is appended to its first X-Forwarded-For field, in place, and
   * any later ones are forwarded as they are (vegur_utils add_or_append_header). Otherwise
   * every field is merged into one at the end (`fwd`).
   */
  readonly clientIp?: string;
}

/** X-Forwarded-For after appending the client's address to whatever the client sent. */
export function forwardedFor(head: RequestHead, clientIp: string): string {
  let existing: string | null = null;
  for (const [name, value] of head.headers) {
    if (name.length === 15 && name.toLowerCase() === 'x-forwarded-for' && value !== '')
      existing = existing === null ? value : `${existing}, ${value}`;
  }
  return existing === null ? clientIp : `${existing}, ${clientIp}`;
}

export function requestIdHeader(head: RequestHead): string | null {
  for (const [name, value] of head.headers)
    if (name.length === 12 && name.toLowerCase() === 'x-request-id') return value;
  return null;
}

/**
 * The request head sent to the dyno. Framing is never copied from the client: every
 * Content-Length and Transfer-Encoding the client sent is dropped and exactly one framing
 * header is written from what the router itself enforces (`head.framing`), so the router and
 * the app always agree on where the request ends.
 */
export function buildRequestHead(head: RequestHead, ctx: ForwardContext): string {
  const extra = head.headers.length > 0 ? connectionTokens(head.headers) : null;
  let out = `${head.method} ${head.target} HTTP/${ctx.asHttp11 === true ? '1.1' : head.version}\r\n`;
  let via: string | null = null;
  let sentLength = false;
  const inPlace = ctx.clientIp;
  let appended = false;
  for (const [name, value] of head.headers) {
    const n = name.length;
    // Fast path: names no rule touches (checked by length before lowercasing).
    if (
      n === 2 ||
      n === 3 ||
      n === 10 ||
      n === 12 ||
      n === 14 ||
      n === 15 ||
      n === 16 ||
      n === 17 ||
      n === 19 ||
      n === 6 ||
      n === 7 ||
      extra !== null
    ) {
      const lower = name.toLowerCase();
      if (isHopByHop(name) || REPLACED.has(lower)) continue;
      if (lower === 'x-forwarded-for') {
        if (inPlace === undefined) continue;
        if (!appended) {
          appended = true;
          out += `X-Forwarded-For: ${value === '' ? inPlace : `${value}, ${inPlace}`}\r\n`;
          continue;
        }
      }
      if (lower === 'content-length') {
        sentLength = true;
        continue;
      }
      if (lower === 'transfer-encoding') continue;
      if (lower === 'via') {
        via = via === null ? value : `${via}, ${value}`;
        continue;
      }
      if (lower === 'expect' && head.expectContinue) continue;
      if (lower === 'upgrade' && head.upgrade === null) continue;
      if (extra?.has(lower)) continue;
    }
    out += `${ctx.capitalize === true ? capitalizeToken(name) : name}: ${value}\r\n`;
  }
  const framing = head.framing;
  if (framing.kind === 'length') out += `Content-Length: ${framing.length}\r\n`;
  else if (framing.kind === 'chunked')
    out += `Transfer-Encoding: ${framing.codings ?? 'chunked'}\r\n`;
  else if (sentLength) out += 'Content-Length: 0\r\n';
  out +=
    `X-Request-Id: ${ctx.requestId}\r\n` +
    (appended ? '' : `X-Forwarded-For: ${inPlace ?? ctx.fwd}\r\n`) +
    'X-Forwarded-Proto: http\r\n' +
    `X-Forwarded-Port: ${ctx.port}\r\n` +
    `X-Request-Start: ${ctx.requestStartMs}\r\n` +
    `Via: ${via === null ? ctx.via : `${via}, ${ctx.via}`}\r\n` +
    `Connect-Time: ${ctx.connectMs}\r\n` +
    `Total-Route-Time: ${ctx.totalRouteMs}\r\n`;
  if (head.upgrade !== null) out += 'Connection: Upgrade\r\n\r\n';
  else if (!ctx.keepAlive) out += 'Connection: close\r\n\r\n';
  else if (head.version === '1.0') out += 'Connection: keep-alive\r\n\r\n';
  else out += '\r\n';
  return out;
}

export interface RelayContext {
  readonly via: string;
  readonly server: string;
  /** What the router tells the client about its connection: keep it, or close it. */
  readonly clientKeepAlive: boolean;
  readonly clientVersion: '1.0' | '1.1';
  /** The response had Transfer-Encoding: its Content-Length, if any, is not relayed. */
  readonly transferEncoding: boolean;
  /** Header lines the router adds to every relayed response (each ending CRLF). */
  readonly added?: string;
  /** Say `Connection: keep-alive` on a kept connection too (vegur does, HTTP/1.1 included). */
  readonly sayKeepAlive?: boolean;
  /** Legacy: header names Capitalized-Like-This (capitalizeToken). */
  readonly capitalize?: boolean;
  /** The body is de-chunked for the client: Transfer-Encoding is not relayed either. */
  readonly dechunk?: boolean;
}

/** The response head as the client receives it. */
export function buildResponseHead(head: ResponseHead, ctx: RelayContext): string {
  const upgrade = head.status === 101;
  let out = `HTTP/1.1 ${head.status} ${head.reason}\r\n`;
  let via: string | null = null;
  let hasDate = false;
  let hasServer = false;
  const extra = connectionTokens(head.headers);
  for (const [name, value] of head.headers) {
    if (isHopByHop(name) || extra?.has(name.toLowerCase())) continue;
    // Only these names get a rule; each is told apart by its length first.
    switch (name.length) {
      case 3:
        if (sameLower(name, 'via')) {
          via = via === null ? value : `${via}, ${value}`;
          continue;
        }
        break;
      case 4:
        if (sameLower(name, 'date')) hasDate = true;
        break;
      case 6:
        if (sameLower(name, 'server')) hasServer = true;
        break;
      case 7:
        if (!upgrade && sameLower(name, 'upgrade')) continue;
        break;
      case 14:
        // Transfer-Encoding wins over Content-Length (RFC 9112 §6.3), whatever its codings:
        // relaying both would let a client that trusts Content-Length fall out of step.
        if (ctx.transferEncoding && sameLower(name, 'content-length')) continue;
        break;
      case 17:
        if (ctx.dechunk === true && sameLower(name, 'transfer-encoding')) continue;
        break;
    }
    out += `${ctx.capitalize === true ? capitalizeToken(name) : name}: ${value}\r\n`;
  }
  out += `Via: ${via === null ? ctx.via : `${via}, ${ctx.via}`}\r\n`;
  if (!hasDate) out += `Date: ${httpDate()}\r\n`;
  if (!hasServer) out += `Server: ${ctx.server}\r\n`;
  if (ctx.added !== undefined) out += ctx.added;
  if (upgrade) out += 'Connection: Upgrade\r\n\r\n';
  else if (!ctx.clientKeepAlive) out += 'Connection: close\r\n\r\n';
  else if (ctx.clientVersion === '1.0' || ctx.sayKeepAlive === true)
    out += 'Connection: keep-alive\r\n\r\n';
  else out += '\r\n';
  return out;
}

/** A 1xx head relayed before the final one: hop-by-hop headers removed, Via added. */
export function buildInterimHead(head: ResponseHead, via: string): string {
  const extra = connectionTokens(head.headers);
  let out = `HTTP/1.1 ${head.status} ${head.reason}\r\n`;
  let theirVia: string | null = null;
  for (const [name, value] of head.headers) {
    const lower = name.toLowerCase();
    if (isHopByHop(name) || extra?.has(lower)) continue;
    if (lower === 'via') {
      theirVia = theirVia === null ? value : `${theirVia}, ${value}`;
      continue;
    }
    out += `${name}: ${value}\r\n`;
  }
  return `${out}Via: ${theirVia === null ? via : `${theirVia}, ${via}`}\r\n\r\n`;
}
