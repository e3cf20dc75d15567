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

import { type ByteTimestampReader, dataViewOf } from './byte-timestamp.js';
import { isSourceChar } from './line-parse.js';

export { type ByteTimestampReader, createByteTimestampReader } from './byte-timestamp.js';

/** `heroku[router]: at=info ` as bytes. */
const ROUTER_INFO = Buffer.from('heroku[router]: at=info ', 'latin1');
const TAG_LENGTH = ROUTER_INFO.length;
const CODE_FIELD = Buffer.from('code=', 'latin1');

function isCodeField(buf: Uint8Array, at: number, end: number): boolean {
  if (at + CODE_FIELD.length > end) return false;
  for (let i = 0; i < CODE_FIELD.length; i++) if (buf[at + i] !== CODE_FIELD[i]) return false;
  return true;
}
/** The same 24 bytes as six little-endian words: six compares instead of 24 on every line. */
const TAG_WORDS = Array.from({ length: TAG_LENGTH / 4 }, (_, k) => ROUTER_INFO.readUInt32LE(k * 4));
const HEROKU = Buffer.from('heroku', 'latin1');
const APP = Buffer.from('app', 'latin1');
const ROUTER = Buffer.from('router', 'latin1');

/** What readHead found. */
export const HEAD = {
  /** Anything else: the caller decodes the line and takes the string path. */
  other: 0,
  /** `TIMESTAMP heroku[router]: at=info ...`: `micros` set, `message` just after `at=info `. */
  routerInfo: 1,
  /** `TIMESTAMP app[PROCESS]: ` or `heroku[PROCESS]: ` (not the router), all of `out` set. */
  entry: 2,
  /** Any other `TIMESTAMP heroku[router]: ` line (an error): `micros` and `message` set. */
  routerOther: 3,
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
  // out.micros is written as soon as the timestamp reads; a line classed `other` leaves it
  // unread.
  if (!(sp < spLimit && buf[sp] === 32 && ts.readInto(buf, start, sp, out))) {
    sp = start + 19;
    while (sp < spLimit && buf[sp] !== 32) sp++;
    if (sp >= spLimit || !ts.readInto(buf, start, sp, out)) return HEAD.other;
  }
  const srcStart = sp + 1;
  if (buf[srcStart] === 104 /* h */ && srcStart + TAG_LENGTH <= end) {
    const v = dataViewOf(buf);
    let k = 0;
    while (k < TAG_WORDS.length && v.getUint32(srcStart + 4 * k, true) === TAG_WORDS[k]) k++;
    // `at=info code=H80` (maintenance mode, H81, H82) is an info-level router error, not a
    // plain request: it takes the string path, which reports it.
    const after = srcStart + TAG_LENGTH;
    if (k === TAG_WORDS.length && !(buf[after] === 99 /* c */ && isCodeField(buf, after, end))) {
      out.message = after;
      return HEAD.routerInfo;
    }
  }
  const limit = Math.min(end, srcStart + 64);
  let i = srcStart;
  while (i < limit) {
    if (isSourceChar(buf[i] as number)) i++;
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
  let msg = i + 2;
  if (msg < end && buf[msg] === 32) msg++;
  if (platform && bytesAre(buf, br + 1, i, ROUTER)) {
    out.message = Math.min(msg, end);
    return HEAD.routerOther;
  }
  out.platform = platform;
  out.processStart = br + 1;
  out.processEnd = i;
  out.message = Math.min(msg, end);
  return HEAD.entry;
}

interface KnownName {
  readonly hash: number;
  readonly bytes: Uint8Array;
  readonly name: string;
}

/** Slots of the direct-mapped cache in front of the table (a power of two). */
const CACHE_SLOTS = 64;

/**
 * Process names (`web.1`) straight from the bytes: a hash of the bytes finds the name
 * already made, so the common line allocates no name string. `make` builds a new one
 * (the analyzer's intern), for names not seen yet or whose hash is taken. A small array
 * indexed by the hash answers the names of the moment without a Map lookup (one per line).
 */
export function createNameTable(
  make: (name: string) => string,
  max = 4096,
): (buf: Uint8Array, from: number, to: number) => string {
  const known = new Map<number, KnownName>();
  const cache: Array<KnownName | undefined> = new Array<KnownName | undefined>(CACHE_SLOTS).fill(
    undefined,
  );
  const sameBytes = (b: Uint8Array, buf: Uint8Array, from: number, to: number): boolean => {
    if (b.length !== to - from) return false;
    for (let k = 0; k < b.length; k++) if (b[k] !== buf[from + k]) return false;
    return true;
  };
  return (buf, from, to) => {
    let h = 0x811c9dc5;
    for (let k = from; k < to; k++) h = Math.imul(h ^ (buf[k] as number), 0x01000193);
    const slot = h & (CACHE_SLOTS - 1);
    const cached = cache[slot];
    if (cached !== undefined && cached.hash === h && sameBytes(cached.bytes, buf, from, to))
      return cached.name;
    const hit = known.get(h);
    if (hit !== undefined && sameBytes(hit.bytes, buf, from, to)) {
      cache[slot] = hit;
      return hit.name;
    }
    const name = make(Buffer.from(buf.buffer, buf.byteOffset + from, to - from).toString('latin1'));
    if (hit === undefined && known.size < max) {
      const entry = { hash: h, bytes: Uint8Array.prototype.slice.call(buf, from, to), name };
      known.set(h, entry);
      cache[slot] = entry;
    }
    return name;
  };
}
