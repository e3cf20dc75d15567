/**
 * The hot path on raw input bytes. Most lines of a `heroku logs` file are router `at=info`
 * lines, and all the analyzer does with one is count it at its time: reading those straight
 * from the input chunk saves decoding every byte of the input to a string (the largest cost
 * of the string path, and 256 KiB strings that only a full GC frees). Every other line is
 * decoded on its own and takes the string path, so what is reported does not change.
 *
 * The checks mirror the string path exactly (timestamp.ts, parseHerokuAt, the router's
 * `at=info ` test): a line accepted here is one the string path would count the same way.
 */

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
    y < 0 ||
    mo < 1 ||
    mo > 12 ||
    d < 1 ||
    d > 31 ||
    h < 0 ||
    h > 23 ||
    mi < 0 ||
    mi > 59 ||
    s < 0 ||
    s > 60 ||
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
  /** `buf[start, end)` is an RFC 3339 timestamp; epoch microseconds, NaN when it is not. */
  read(buf: Uint8Array, start: number, end: number): number;
}

/**
 * Same grammar and result as createTimestampReader. Neighbouring lines share their
 * date-and-second prefix, so it is parsed once and compared byte by byte afterwards, from
 * the seconds backwards (they change first, so a new second is noticed after one compare).
 */
export function createByteTimestampReader(): ByteTimestampReader {
  const prefix = new Uint8Array(19);
  let hasPrefix = false;
  let prefixSeconds = 0;
  return {
    read(buf, start, end) {
      if (end - start < 20) return Number.NaN;
      let seconds: number;
      let same = hasPrefix;
      for (let k = 18; same && k >= 0; k--) same = buf[start + k] === prefix[k];
      if (same) {
        seconds = prefixSeconds;
      } else {
        const s = secondsOfBytes(buf, start);
        if (Number.isNaN(s)) return Number.NaN;
        for (let k = 0; k < 19; k++) prefix[k] = buf[start + k] as number;
        hasPrefix = true;
        prefixSeconds = s;
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
      return (seconds - offset) * 1_000_000 + micros;
    },
  };
}

/** `heroku[router]: at=info ` as bytes. */
const ROUTER_INFO = Buffer.from('heroku[router]: at=info ', 'latin1');
const TAG_LENGTH = ROUTER_INFO.length;
const HEROKU = Buffer.from('heroku', 'latin1');
const APP = Buffer.from('app', 'latin1');
const ROUTER = Buffer.from('router', 'latin1');

/** What readHead found. */
export const HEAD = {
  /** Anything else: the caller decodes the line and takes the string path. */
  other: 0,
  /** `TIMESTAMP heroku[router]: at=info ...`: only `micros` is set. */
  routerInfo: 1,
  /** `TIMESTAMP app[PROCESS]: ` or `heroku[PROCESS]: ` (not the router), all of `out` set. */
  entry: 2,
} as const;

/** Where the parts of a `TIMESTAMP SOURCE[PROCESS]: MESSAGE` line are, in bytes. */
export interface ByteHead {
  micros: number;
  /** True for `heroku[...]` (the platform), false for `app[...]`. */
  platform: boolean;
  processStart: number;
  processEnd: number;
  /** Where the message starts; the same offset in characters, as the head is ASCII. */
  message: number;
}

export function createByteHead(): ByteHead {
  return { micros: Number.NaN, platform: false, processStart: 0, processEnd: 0, message: 0 };
}

function bytesAre(buf: Uint8Array, from: number, to: number, word: Uint8Array): boolean {
  if (to - from !== word.length) return false;
  for (let k = 0; k < word.length; k++) if (buf[from + k] !== word[k]) return false;
  return true;
}

/**
 * The head of a `heroku logs` line in `buf[start, end)`, read the way parseHerokuAt reads the
 * decoded line: a line classed `routerInfo` or `entry` is one the string path would count
 * and hand on with exactly these parts. Whatever this does not handle (router errors, other
 * sources, a non-ASCII process name, a malformed head) is `other`, and the caller takes the
 * string path, which decides for itself. A valid timestamp is ASCII, so up to the message
 * bytes and characters count the same.
 */
export function readHead(
  buf: Uint8Array,
  start: number,
  end: number,
  ts: ByteTimestampReader,
  out: ByteHead,
): number {
  const c0 = buf[start] as number;
  if (c0 < 48 || c0 > 57 || end - start <= 20 || buf[start + 4] !== 45) return HEAD.other;
  // parseHerokuAt takes the first space from character 19 on, within 40 of the start.
  // `…123456+00:00 ` puts it at 32: when a timestamp reads up to there, it holds no space,
  // so that is the first one; otherwise it is looked for.
  const spLimit = Math.min(end, start + 41);
  let sp = start + 32;
  let micros = sp < spLimit && buf[sp] === 32 ? ts.read(buf, start, sp) : Number.NaN;
  if (Number.isNaN(micros)) {
    sp = start + 19;
    while (sp < spLimit && buf[sp] !== 32) sp++;
    if (sp >= spLimit) return HEAD.other;
    micros = ts.read(buf, start, sp);
    if (Number.isNaN(micros)) return HEAD.other;
  }
  const srcStart = sp + 1;
  if (buf[srcStart] === 104 /* h */ && srcStart + TAG_LENGTH <= end) {
    let k = 1;
    while (k < TAG_LENGTH && buf[srcStart + k] === ROUTER_INFO[k]) k++;
    if (k === TAG_LENGTH) {
      out.micros = micros;
      return HEAD.routerInfo;
    }
  }
  const limit = Math.min(end, srcStart + 64);
  let i = srcStart;
  while (i < limit) {
    const c = buf[i] as number;
    if (
      (c >= 97 && c <= 122) ||
      (c >= 65 && c <= 90) ||
      (c >= 48 && c <= 57) ||
      c === 95 ||
      c === 45
    )
      i++;
    else break;
  }
  if (i >= limit || buf[i] !== 91 /* [ */) return HEAD.other;
  const br = i;
  const platform = bytesAre(buf, srcStart, br, HEROKU);
  if (!platform && !bytesAre(buf, srcStart, br, APP)) return HEAD.other;
  i++;
  while (i < limit) {
    const c = buf[i] as number;
    if (c === 93 || c === 32 || c === 9) break;
    if (c >= 128) return HEAD.other;
    i++;
  }
  if (i >= limit || i === br + 1 || buf[i] !== 93 || buf[i + 1] !== 58) return HEAD.other;
  if (platform && bytesAre(buf, br + 1, i, ROUTER)) return HEAD.other;
  let msg = i + 2;
  if (msg < end && buf[msg] === 32) msg++;
  out.micros = micros;
  out.platform = platform;
  out.processStart = br + 1;
  out.processEnd = i;
  out.message = Math.min(msg, end);
  return HEAD.entry;
}

interface KnownName {
  readonly bytes: Uint8Array;
  readonly name: string;
}

/**
 * Process names (`web.1`) straight from the bytes: a hash of the bytes finds the name
 * already made, so the common line allocates no name string. `make` builds a new one
 * (the analyzer's intern), for names not seen yet or whose hash is taken.
 */
export function createNameTable(
  make: (name: string) => string,
  max = 4096,
): (buf: Uint8Array, from: number, to: number) => string {
  const known = new Map<number, KnownName>();
  return (buf, from, to) => {
    let h = 0x811c9dc5;
    for (let k = from; k < to; k++) h = Math.imul(h ^ (buf[k] as number), 0x01000193);
    const hit = known.get(h);
    if (hit !== undefined) {
      const b = hit.bytes;
      let same = b.length === to - from;
      for (let k = 0; same && k < b.length; k++) same = b[k] === buf[from + k];
      if (same) return hit.name;
    }
    const name = make(Buffer.from(buf.buffer, buf.byteOffset + from, to - from).toString('latin1'));
    if (hit === undefined && known.size < max)
      known.set(h, { bytes: Uint8Array.prototype.slice.call(buf, from, to), name });
    return name;
  };
}
