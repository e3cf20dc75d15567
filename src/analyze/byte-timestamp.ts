/**
 * RFC 3339 timestamps read straight from input bytes, with the same grammar and result as
 * createTimestampReader (timestamp.ts) on the decoded text. Every line of a log has one,
 * so this is the single most frequent piece of work: neighbouring lines share their
 * date-and-second prefix and their zone, which are parsed once and then only compared.
 */

import { validWallTime } from './timestamp.js';

const D0 = 48;
/** Microseconds per digit of the fraction. */
const PLACES = [100_000, 10_000, 1000, 100, 10, 1] as const;

function digits(buf: Uint8Array, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = (buf[i] as number) - D0;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** `YYYY-MM-DDTHH:MM:SS` (T or space) at `start`, as epoch seconds; NaN when it is not. */
function secondsOfBytes(buf: Uint8Array, start: number): number {
  const y = digits(buf, start, 4);
  const mo = digits(buf, start + 5, 2);
  const d = digits(buf, start + 8, 2);
  const h = digits(buf, start + 11, 2);
  const mi = digits(buf, start + 14, 2);
  const s = digits(buf, start + 17, 2);
  const sep = buf[start + 10];
  if (
    !validWallTime(y, mo, d, h, mi, s) ||
    buf[start + 4] !== 45 ||
    buf[start + 7] !== 45 ||
    (sep !== 84 && sep !== 32 && sep !== 116) ||
    buf[start + 13] !== 58 ||
    buf[start + 16] !== 58
  ) {
    return Number.NaN;
  }
  return Date.UTC(y, mo - 1, d, h, mi, s) / 1000;
}

export interface ByteTimestampReader {
  /**
   * When `buf[start, end)` is an RFC 3339 timestamp, its epoch microseconds go to `out.micros`
   * and the answer is true; otherwise false, and `out` is left alone. Written rather than
   * returned: a double returned by a call the JIT does not inline is boxed, a heap number
   * for every line of the log.
   */
  readInto(buf: Uint8Array, start: number, end: number, out: { micros: number }): boolean;
  /** The same, returned: epoch microseconds, NaN when it is not a timestamp. */
  read(buf: Uint8Array, start: number, end: number): number;
}

/** `YYYY-MM-DDTHH:MM:SS.ffffff+HH:MM`, what `heroku logs` prints: the fast path's shape. */
const HEROKU_LENGTH = 32;
const FRACTION = 20;
const ZONE = 26;

/** A DataView of the buffer last read, made once per buffer rather than once per line. */
let viewed: Uint8Array | null = null;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

export function dataViewOf(buf: Uint8Array): DataView {
  if (buf !== viewed) {
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    viewed = buf;
  }
  return view;
}

/**
 * The date-and-second prefix is parsed when it changes and compared otherwise. A timestamp
 * in `heroku logs`' own shape whose prefix and zone (`+00:00`) are those already parsed is
 * read with four-byte compares and the six fraction digits; anything else, or a change,
 * goes through the general reader, which keeps both caches up to date.
 */
export function createByteTimestampReader(): ByteTimestampReader {
  const prefix = new Uint8Array(19);
  const prefixView = new DataView(prefix.buffer);
  let hasPrefix = false;
  let prefixSeconds = 0;
  // The prefix as words (bytes 0–15, 16–17, 18), always those of `prefix`.
  let p0 = 0;
  let p1 = 0;
  let p2 = 0;
  let p3 = 0;
  let p4 = 0;
  let p5 = 0;
  // The last zone read in the fast shape (bytes 26–29, 30–31) and its offset in seconds;
  // -1: none yet (no word of valid zone bytes is -1).
  let z0 = -1;
  let z1 = -1;
  let zoneSeconds = 0;

  function setPrefix(buf: Uint8Array, start: number, seconds: number): void {
    for (let k = 0; k < 19; k++) prefix[k] = buf[start + k] as number;
    hasPrefix = true;
    prefixSeconds = seconds;
    p0 = prefixView.getUint32(0, true);
    p1 = prefixView.getUint32(4, true);
    p2 = prefixView.getUint32(8, true);
    p3 = prefixView.getUint32(12, true);
    p4 = prefixView.getUint16(16, true);
    p5 = prefix[18] as number;
  }

  function general(buf: Uint8Array, start: number, end: number): number {
    let seconds: number;
    let same = hasPrefix;
    // From the seconds backwards: they change first, so a new second shows after one compare.
    for (let k = 18; same && k >= 0; k--) same = buf[start + k] === prefix[k];
    if (same) {
      seconds = prefixSeconds;
    } else {
      const s = secondsOfBytes(buf, start);
      if (Number.isNaN(s)) return Number.NaN;
      setPrefix(buf, start, s);
      seconds = s;
    }
    let i = start + 19;
    let micros = 0;
    if (buf[i] === 46 /* . */) {
      i++;
      const fracStart = i;
      while (i < end) {
        const d = (buf[i] as number) - D0;
        if (d < 0 || d > 9) break;
        // Digits past the sixth count for nothing, as in the string reader.
        const k = i - fracStart;
        if (k < 6) micros += d * (PLACES[k] as number);
        i++;
      }
      if (i === fracStart) return Number.NaN;
    }
    const c = buf[i];
    if (c === 90 /* Z */ || c === 122 /* z */) {
      return i + 1 === end ? seconds * 1_000_000 + micros : Number.NaN;
    }
    if (c !== 43 && c !== 45) return Number.NaN;
    // Every byte read below lies inside [start, end) when the final length check passes.
    const hh = digits(buf, i + 1, 2);
    const colon = buf[i + 3] === 58 ? 1 : 0;
    const mm = digits(buf, i + 3 + colon, 2);
    if (hh < 0 || mm < 0 || i + 5 + colon !== end) return Number.NaN;
    const offset = (hh * 3600 + mm * 60) * (c === 43 ? 1 : -1);
    if (i === start + ZONE && colon === 1) {
      const v = dataViewOf(buf);
      z0 = v.getUint32(i, true);
      z1 = v.getUint16(i + 4, true);
      zoneSeconds = offset;
    }
    return (seconds - offset) * 1_000_000 + micros;
  }

  function readInto(buf: Uint8Array, start: number, end: number, out: { micros: number }): boolean {
    if (end - start < 20) return false;
    if (end - start === HEROKU_LENGTH && hasPrefix && buf[start + 19] === 46) {
      const v = dataViewOf(buf);
      if (
        buf[start + 18] === p5 &&
        v.getUint16(start + 16, true) === p4 &&
        v.getUint32(start + 12, true) === p3 &&
        v.getUint32(start + 8, true) === p2 &&
        v.getUint32(start + 4, true) === p1 &&
        v.getUint32(start, true) === p0 &&
        v.getUint32(start + ZONE, true) === z0 &&
        v.getUint16(start + ZONE + 4, true) === z1
      ) {
        const f = start + FRACTION;
        const d0 = (buf[f] as number) - D0;
        const d1 = (buf[f + 1] as number) - D0;
        const d2 = (buf[f + 2] as number) - D0;
        const d3 = (buf[f + 3] as number) - D0;
        const d4 = (buf[f + 4] as number) - D0;
        const d5 = (buf[f + 5] as number) - D0;
        // `>>> 0` folds "below 0" into "above 9": one compare per digit.
        if (
          d0 >>> 0 <= 9 &&
          d1 >>> 0 <= 9 &&
          d2 >>> 0 <= 9 &&
          d3 >>> 0 <= 9 &&
          d4 >>> 0 <= 9 &&
          d5 >>> 0 <= 9
        ) {
          const micros = d0 * 100_000 + d1 * 10_000 + d2 * 1000 + d3 * 100 + d4 * 10 + d5;
          out.micros = (prefixSeconds - zoneSeconds) * 1_000_000 + micros;
          return true;
        }
      }
    }
    const micros = general(buf, start, end);
    if (Number.isNaN(micros)) return false;
    out.micros = micros;
    return true;
  }

  const scratch = { micros: Number.NaN };
  return {
    readInto,
    read: (buf, start, end) => (readInto(buf, start, end, scratch) ? scratch.micros : Number.NaN),
  };
}
