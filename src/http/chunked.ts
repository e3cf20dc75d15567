/**
 * An incremental validator for chunked message bodies (RFC 9112 §7.1), shared by the router
 * (request bodies: H26 `bad chunk`; response bodies: where a response ends, H17/H18) and by the
 * clients that classify responses (bad-client, probe, tests).
 *
 * It does not copy or decode data: it walks the bytes and says where the body ends, so the
 * router can relay the original bytes untouched. Limits follow Node's (chunk extensions up to
 * 16 KiB) and keep a hostile peer from growing state without bound.
 */

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
  /** Total body bytes (chunk data only) seen so far. */
  dataBytes = 0;

  get done(): boolean {
    return this.#state === S.Done;
  }

  /** Walk `buf[start..]`; returns where the body ended, or an error. */
  push(buf: Uint8Array, start = 0): ChunkResult {
    let i = start;
    const n = buf.length;
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
          this.#digits = 0;
          this.#extBytes = 0;
          this.#state = this.#remaining === 0 ? S.TrailerStart : S.Data;
          break;
        case S.Data: {
          const take = Math.min(this.#remaining, n - i);
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
          this.#state = S.Size;
          i++;
          break;
        case S.TrailerStart:
          if (c === 13) this.#state = S.FinalLf;
          else if (c === 10) return { state: 'error', reason: 'bare LF in trailer section' };
          else {
            this.#lineBytes = 1;
            this.#state = S.TrailerLine;
          }
          i++;
          break;
        case S.TrailerLine:
          if (c === 13) this.#state = S.TrailerLf;
          else if (c === 10 || c === 0)
            return { state: 'error', reason: 'invalid character in trailer' };
          else if (++this.#lineBytes > MAX_TRAILER_LINE)
            return { state: 'error', reason: 'trailer line too long' };
          i++;
          break;
        case S.TrailerLf:
          if (c !== 10) return { state: 'error', reason: 'expected LF after trailer' };
          this.#state = S.TrailerStart;
          i++;
          break;
        case S.FinalLf:
          if (c !== 10) return { state: 'error', reason: 'expected LF after last chunk' };
          this.#state = S.Done;
          return { state: 'done', end: i + 1 };
        case S.Done:
          return { state: 'done', end: i };
      }
    }
    return MORE;
  }
}
