/**
 * UUIDv4 request ids for requests that arrive without a valid X-Request-Id: the router makes
 * one for every such request, the guard only for direct traffic (behind Heroku's router every
 * request has one).
 *
 * Measured on Node 20 (micro-benchmark, id flattened as a header write does):
 * crypto.randomUUID() ~220 ns, this ~65 ns. randomUUID refills its entropy every 128 ids and
 * builds the id by concatenating 20 short strings (garbage, then a flatten when the header
 * is written); this draws 4096 ids' worth of bytes from the same CSPRNG per refill and makes
 * the 36 characters with one String.fromCharCode call (one flat string). The version (4) and
 * variant (10xx) bits are set as RFC 9562 §5.4 requires.
 */

import { randomFillSync } from 'node:crypto';

const IDS_PER_REFILL = 4096;
const pool = Buffer.allocUnsafeSlow(16 * IDS_PER_REFILL);
let offset = pool.length;

const DIGITS = '0123456789abcdef';
/** Char codes of each byte's high and low hex digit. */
const HI = Uint8Array.from({ length: 256 }, (_, i) => DIGITS.charCodeAt(i >> 4));
const LO = Uint8Array.from({ length: 256 }, (_, i) => DIGITS.charCodeAt(i & 15));
const DASH = 45;

/**
 * `v4: false` leaves every bit random in the same 8-4-4-4-12 layout: Router 2.0's generated
 * ids (`407b828f-ec16-bfef-cff3-25e749e57945` in public logs) carry no version or variant.
 */
export function newRequestId(v4 = true): string {
  if (offset + 16 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const o = offset;
  offset = o + 16;
  const b = (i: number) => pool[o + i] as number;
  const b6 = v4 ? (b(6) & 0x0f) | 0x40 : b(6);
  const b8 = v4 ? (b(8) & 0x3f) | 0x80 : b(8);
  // biome-ignore format: one group of the UUID per line
  return String.fromCharCode(
    HI[b(0)] as number, LO[b(0)] as number, HI[b(1)] as number, LO[b(1)] as number,
    HI[b(2)] as number, LO[b(2)] as number, HI[b(3)] as number, LO[b(3)] as number, DASH,
    HI[b(4)] as number, LO[b(4)] as number, HI[b(5)] as number, LO[b(5)] as number, DASH,
    HI[b6] as number, LO[b6] as number, HI[b(7)] as number, LO[b(7)] as number, DASH,
    HI[b8] as number, LO[b8] as number, HI[b(9)] as number, LO[b(9)] as number, DASH,
    HI[b(10)] as number, LO[b(10)] as number, HI[b(11)] as number, LO[b(11)] as number,
    HI[b(12)] as number, LO[b(12)] as number, HI[b(13)] as number, LO[b(13)] as number,
    HI[b(14)] as number, LO[b(14)] as number, HI[b(15)] as number, LO[b(15)] as number,
  );
}

/** Ids that share one head before a new one is drawn. */
const IDS_PER_HEAD = 256;
/** What comes before the id on the guard's echoed header line. */
export const ID_LINE_PREFIX = 'x-request-id: ';
let lineHead = '';
let idsLeft = 0;
const CR = 13;
const LF = 10;

/**
 * UUIDv4s for the guard's per-request path, made in two pieces that are the two halves of the
 * `x-request-id` header line it echoes. The first 19 characters of the id
 * (`xxxxxxxx-xxxx-4xxx-`: the version and 60 random bits) are shared by IDS_PER_HEAD ids in a
 * row; the last 17 (the variant and 62 random bits) are drawn for each id. Knowing one id, a
 * client still has 62 random bits to guess to name another request's id.
 *
 * takeIdLineTail() draws the next id's last 17 characters, followed by CRLF; idLineHead() is
 * the piece that goes before it: ID_LINE_PREFIX and the shared 19 characters, one flat
 * string. The echo then joins two strings per response instead of five (docs/guard.md,
 * "Thirteenth session"). Building all 36 characters per request was the largest part of the
 * guard's cost for a request without an id (docs/guard.md, "Twelfth session"); the router
 * keeps newRequestId().
 */
export function takeIdLineTail(): string {
  if (idsLeft === 0) {
    // A flat copy: a concatenation would be a nested string, and a slice a sliced one; V8's
    // copy of a response head takes only sequential strings on its fast path (read in V8's
    // String::WriteToFlat; the nested case measured in docs/guard.md).
    lineHead = Buffer.from(ID_LINE_PREFIX + newRequestId().slice(0, 19), 'latin1').toString(
      'latin1',
    );
    idsLeft = IDS_PER_HEAD;
  }
  idsLeft--;
  if (offset + 8 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const o = offset;
  offset = o + 8;
  const b = (i: number) => pool[o + i] as number;
  const variant = (b(0) & 0x3f) | 0x80;
  // biome-ignore format: the fourth group, then the fifth, then the line's end
  return String.fromCharCode(
    HI[variant] as number, LO[variant] as number, HI[b(1)] as number, LO[b(1)] as number, DASH,
    HI[b(2)] as number, LO[b(2)] as number, HI[b(3)] as number, LO[b(3)] as number,
    HI[b(4)] as number, LO[b(4)] as number, HI[b(5)] as number, LO[b(5)] as number,
    HI[b(6)] as number, LO[b(6)] as number, HI[b(7)] as number, LO[b(7)] as number, CR, LF,
  );
}

export function idLineHead(): string {
  return lineHead;
}

/** The id that a line's two pieces carry. */
export function idOfLine(head: string, tail: string): string {
  return head.slice(ID_LINE_PREFIX.length) + tail.slice(0, -2);
}
