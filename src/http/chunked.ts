/**
 * An incremental validator for chunked message bodies (RFC 9112 §7.1), shared by the router
 * (request bodies: H26 `bad chunk`; response bodies: where a response ends, H17/H18) and by the
 * clients that classify responses (bad-client, probe, tests).
 *
 * It does not copy or decode data: it walks the bytes and says where the body ends, so the
 * router can relay the original bytes untouched. Limits follow Node's (chunk extensions up to
 * 16 KiB) and keep a hostile peer from growing state without bound.
 *
 * Trailer fields are checked like head fields (a token name, a colon, a value without control
 * characters, no obs-fold, at most 1000 lines of 8192 bytes), whatever the mode: a trailer is
 * a header the app may read, so it must not carry what a head may not.
 *
 * `rewrite: true` (the router's request side) also collects, in `output`, the body as it is to
 * be forwarded: chunk extensions dropped (as vegur_chunked does: "we drop them anyway"), each
 * size line re-written in plain hex, trailer lines forwarded only once complete and checked.
 * `decode: true` collects the chunk data only (the legacy router de-chunks a response for an
 * HTTP/1.0 client, as vegur does).
 */

import { hasBadValueByte, isTokenRange } from './token.js';

/** Parser states, as plain numbers so the switch stays a jump table. */
const S = {
  Size: 0,
  SizeWs: 1,
  Ext: 2,
  SizeLf: 3,
  Data: 4,
  DataCr: 5,
  DataLf: 6,
  TrailerStart: 7,
  TrailerLine: 8,
  TrailerLf: 9,
  FinalLf: 10,
  Done: 11,
} as const;
type State = (typeof S)[keyof typeof S];

// 13 hex digits stay below 2^53, so the size is exact as a double; 4.5 PB is past anything real.
const MAX_SIZE_DIGITS = 13;
const MAX_EXT = 16 * 1024;
const MAX_TRAILER_LINE = 8192;
const MAX_TRAILERS = 1000;

/**
 * Fields that frame or route a message: RFC 9110 §6.5.1 forbids them as trailers, and an app
 * that merges trailers into its headers (a known class of backend bug) would read a second
 * framing or Host from them. Refused in the trailers the router forwards (rewrite mode).
 */
const FRAMING_TRAILERS = new Set(['content-length', 'transfer-encoding', 'host', 'trailer']);

/** Why a complete trailer line may not be forwarded, or null. */
function trailerFault(line: string, forwarded: boolean): string | null {
  const first = line.charCodeAt(0);
  if (first === 32 || first === 9) return 'obs-fold in trailer section';
  const colon = line.indexOf(':');
  if (colon < 0 || !isTokenRange(line, 0, colon)) return 'invalid trailer field name';
  if (hasBadValueByte(line.slice(colon + 1))) return 'control character in trailer value';
  // Only names of these lengths can be one of them: no lowercase copy for the others.
  if (forwarded && (colon === 4 || colon === 7 || colon === 14 || colon === 17)) {
    if (FRAMING_TRAILERS.has(line.slice(0, colon).toLowerCase()))
      return 'framing or routing field in trailer section';
  }
  return null;
}

export type ChunkResult =
  /** Consumed everything given; more is needed. */
  | { readonly state: 'more' }
  /** The body ended `end` bytes into the chunk; bytes after it belong to the next message. */
  | { readonly state: 'done'; readonly end: number }
  | { readonly state: 'error'; readonly reason: string };

const MORE: ChunkResult = { state: 'more' };

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

export class ChunkedValidator {
  #state: State = S.Size;
  #remaining = 0;
  #digits = 0;
  #extBytes = 0;
  #lineBytes = 0;
  #trailers = 0;
  /** The trailer line being received (latin1), kept to check it whole. */
  #line = '';
  /** Total body bytes (chunk data only) seen so far. */
  dataBytes = 0;
  readonly #rewrite: boolean;
  readonly #decode: boolean;
  /** Rewrite mode: what to forward for the bytes of the last push, in order. */
  output: Array<Uint8Array | string> = [];

  constructor(options: { readonly rewrite?: boolean; readonly decode?: boolean } = {}) {
    this.#rewrite = options.rewrite ?? false;
    this.#decode = options.decode ?? false;
  }

  get done(): boolean {
    return this.#state === S.Done;
  }

  /** Walk `buf[start..]`; returns where the body ended, or an error. */
  push(buf: Uint8Array, start = 0): ChunkResult {
    let i = start;
    const n = buf.length;
    const rewrite = this.#rewrite;
    const data = rewrite || this.#decode;
    if (data) this.output = [];
    while (i < n) {
      const c = buf[i] as number;
      switch (this.#state) {
        case S.Size: {
          const h = hexValue(c);
          if (h >= 0) {
            if (++this.#digits > MAX_SIZE_DIGITS)
              return { state: 'error', reason: 'chunk size overflow' };
            this.#remaining = this.#remaining * 16 + h;
          } else if (this.#digits === 0) {
            return { state: 'error', reason: 'invalid character in chunk size' };
          } else if (c === 13) {
            this.#state = S.SizeLf;
          } else if (c === 59) {
            this.#state = S.Ext;
          } else if (c === 32 || c === 9) {
            this.#state = S.SizeWs;
          } else {
            return { state: 'error', reason: 'invalid character in chunk size' };
          }
          i++;
          break;
        }
        case S.SizeWs:
          // RFC 9112 allows BWS before `;` only; a bare space then CRLF is how smuggling starts.
          if (c === 59) this.#state = S.Ext;
          else if (c !== 32 && c !== 9)
            return { state: 'error', reason: 'whitespace after chunk size' };
          i++;
          break;
        case S.Ext:
          if (c === 13) this.#state = S.SizeLf;
          else if (c === 10 || (c < 32 && c !== 9) || c === 127) {
            return { state: 'error', reason: 'invalid character in chunk extension' };
          } else if (++this.#extBytes > MAX_EXT) {
            return { state: 'error', reason: 'chunk extensions too long' };
          }
          i++;
          break;
        case S.SizeLf:
          if (c !== 10) return { state: 'error', reason: 'expected LF after chunk size' };
          i++;
          if (rewrite) this.output.push(`${this.#remaining.toString(16)}\r\n`);
          this.#digits = 0;
          this.#extBytes = 0;
          this.#state = this.#remaining === 0 ? S.TrailerStart : S.Data;
          break;
        case S.Data: {
          const take = Math.min(this.#remaining, n - i);
          if (data && take > 0) this.output.push(buf.subarray(i, i + take));
          this.#remaining -= take;
          this.dataBytes += take;
          i += take;
          if (this.#remaining === 0) this.#state = S.DataCr;
          break;
        }
        case S.DataCr:
          if (c !== 13) return { state: 'error', reason: 'expected CRLF after chunk data' };
          this.#state = S.DataLf;
          i++;
          break;
        case S.DataLf:
          if (c !== 10) return { state: 'error', reason: 'expected CRLF after chunk data' };
          if (rewrite) this.output.push('\r\n');
          this.#state = S.Size;
          i++;
          break;
        case S.TrailerStart:
          if (c === 13) this.#state = S.FinalLf;
          else if (c === 10) return { state: 'error', reason: 'bare LF in trailer section' };
          else {
            if (++this.#trailers > MAX_TRAILERS)
              return { state: 'error', reason: 'more than 1000 trailer lines' };
            this.#lineBytes = 1;
            this.#line = String.fromCharCode(c);
            this.#state = S.TrailerLine;
          }
          i++;
          break;
        case S.TrailerLine: {
          // The rest of the line in one step: a trailer line is checked whole, at its CR.
          let j = i;
          while (j < n && buf[j] !== 13 && buf[j] !== 10) j++;
          this.#lineBytes += j - i;
          if (this.#lineBytes > MAX_TRAILER_LINE)
            return { state: 'error', reason: 'trailer line too long' };
          this.#line += Buffer.from(buf.buffer, buf.byteOffset + i, j - i).toString('latin1');
          i = j;
          if (i === n) break;
          if (buf[i] === 10) return { state: 'error', reason: 'bare LF in trailer section' };
          const fault = trailerFault(this.#line, rewrite);
          if (fault !== null) return { state: 'error', reason: fault };
          this.#state = S.TrailerLf;
          i++;
          break;
        }
        case S.TrailerLf:
          if (c !== 10) return { state: 'error', reason: 'expected LF after trailer' };
          if (rewrite) this.output.push(`${this.#line}\r\n`);
          this.#line = '';
          this.#state = S.TrailerStart;
          i++;
          break;
        case S.FinalLf:
          if (c !== 10) return { state: 'error', reason: 'expected LF after last chunk' };
          if (rewrite) this.output.push('\r\n');
          this.#state = S.Done;
          return { state: 'done', end: i + 1 };
        case S.Done:
          return { state: 'done', end: i };
      }
    }
    return MORE;
  }
}
