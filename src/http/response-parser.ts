/**
 * An incremental HTTP/1.x response parser: where the head ends, how the body is framed, where
 * the response ends, and whether it breaks the router's rules (H17 malformed, H25 restricted).
 *
 * One parser serves the router (which relays the bytes as they come and must classify H13,
 * H17, H18 and H25 exactly) and every client that classifies an ending (bad-client, probe,
 * tests), so they all agree on what "a complete response" is.
 *
 * Rules (shared/spec/heroku-router.md §1, §2): the status line must be `HTTP/1.0 ` or
 * `HTTP/1.1 ` and three digits; each header line needs a colon and a token name (obs-fold is
 * refused); a status line over 8192 bytes, a header line over 512 KiB, a Set-Cookie line over
 * 8192 bytes and a bad Content-Length are H25. Bare LF line ends are accepted, as most proxies do.
 */

import { H25_DESCS } from '../core/codes.js';
import { ChunkedValidator } from './chunked.js';

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

export type Framing = 'none' | 'length' | 'chunked' | 'close' | 'upgrade';

export interface ResponseFault {
  readonly code: 'H17' | 'H25';
  /** The exact desc for H25; the H17 desc is fixed. */
  readonly desc: string | null;
  readonly detail: string;
}

export interface PushResult {
  /** 1xx heads (other than 101) completed in this push, to relay before the final head. */
  readonly interim: readonly ResponseHead[];
  /** Set when the final head completed in this push: the body starts at `bodyStart`. */
  readonly head: ResponseHead | null;
  readonly bodyStart: number;
  /** Set when the response ended in this push: bytes from `end` on are not part of it. */
  readonly end: number | null;
  readonly fault: ResponseFault | null;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const NO_INTERIM: readonly ResponseHead[] = Object.freeze([]);
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: ([^\r\n]*))?$/;
const DIGITS = /^\d+$/;

function fault(code: 'H17' | 'H25', detail: string, desc: string | null = null): ResponseFault {
  return { code, desc, detail };
}

/** Read `Content-Length` values; identical repeats are one value, anything else is a fault. */
function contentLength(values: readonly string[]): number | ResponseFault {
  // The common case, one plain number, without the split and re-normalising below.
  const only = values.length === 1 ? (values[0] as string) : '';
  if (only.length > 0 && only.length <= 15 && DIGITS.test(only)) return Number(only);
  let found: string | null = null;
  for (const raw of values) {
    for (const part of raw.split(',')) {
      const v = part.trim();
      if (!DIGITS.test(v) || v.length > 15) {
        return fault('H25', `Content-Length ${JSON.stringify(raw)}`, H25_DESCS.contentLength);
      }
      const normal = String(Number(v));
      if (found !== null && found !== normal) {
        return fault('H25', 'conflicting Content-Length values', H25_DESCS.contentLength);
      }
      found = normal;
    }
  }
  return found === null ? -1 : Number(found);
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

export class ResponseParser {
  readonly #noBody: boolean;
  #pending: Buffer | null = null;
  #chunked: ChunkedValidator | null = null;
  #remaining = 0;
  phase: 'head' | 'body' | 'done' | 'error' = 'head';
  head: ResponseHead | null = null;
  framing: Framing = 'none';
  fault: ResponseFault | null = null;
  /** Body bytes seen (raw, chunk framing included). */
  bodyBytes = 0;
  /** Whether the peer allows another request on this connection after this response. */
  keepAlive = false;

  readonly #restrict: boolean;

  /**
   * `HEAD` responses carry no body whatever their headers say. `restrict: false` skips the
   * router's H25 size limits, for clients that want to read whatever came back.
   */
  constructor(requestMethod = 'GET', options: { readonly restrict?: boolean } = {}) {
    this.#noBody = requestMethod === 'HEAD';
    this.#restrict = options.restrict ?? true;
  }

  push(chunk: Buffer): PushResult {
    // Allocated only when a 1xx head arrives: nearly every push has none.
    let interim: ResponseHead[] | null = null;
    let head: ResponseHead | null = null;
    let bodyStart = 0;
    let buf = chunk;
    let offset = 0;
    while (this.phase === 'head') {
      if (this.#pending !== null) {
        buf = Buffer.concat([this.#pending, buf.subarray(offset)]);
        offset = 0;
        this.#pending = null;
      }
      const end = findHeadEnd(buf, offset);
      if (end < 0) {
        const tooLong = this.#checkPartialHead(buf, offset);
        if (tooLong !== null) return this.#fail(tooLong, interim ?? NO_INTERIM);
        this.#pending = Buffer.from(buf.subarray(offset));
        return { interim: interim ?? NO_INTERIM, head: null, bodyStart: 0, end: null, fault: null };
      }
      const parsed = parseHead(buf.toString('latin1', offset, end), end - offset, this.#restrict);
      if ('code' in parsed) return this.#fail(parsed, interim ?? NO_INTERIM);
      offset = end;
      if (parsed.status >= 100 && parsed.status < 200 && parsed.status !== 101) {
        if (interim === null) interim = [parsed];
        else interim.push(parsed);
        continue;
      }
      const framed = this.#frame(parsed);
      if (framed !== null) return this.#fail(framed, interim ?? NO_INTERIM);
      head = parsed;
      this.head = parsed;
      bodyStart = offset;
      // When the head straddled pushes, `buf` is a merged copy: report offsets in `chunk`.
      if (buf !== chunk) bodyStart = chunk.length - (buf.length - offset);
      buf = chunk;
      offset = bodyStart;
    }
    if (this.phase === 'done') {
      return {
        interim: interim ?? NO_INTERIM,
        head,
        bodyStart,
        end: head === null ? 0 : bodyStart,
        fault: null,
      };
    }
    const end = this.#body(buf, offset);
    const done = interim ?? NO_INTERIM;
    if (this.fault !== null)
      return { interim: done, head, bodyStart, end: null, fault: this.fault };
    return { interim: done, head, bodyStart, end, fault: null };
  }

  /** The peer closed the connection: is the response complete? */
  finish(): boolean {
    if (this.phase === 'body' && this.framing === 'close') this.phase = 'done';
    return this.phase === 'done';
  }

  #fail(f: ResponseFault, interim: readonly ResponseHead[]): PushResult {
    this.phase = 'error';
    this.fault = f;
    this.#pending = null;
    return { interim, head: null, bodyStart: 0, end: null, fault: f };
  }

  #checkPartialHead(buf: Buffer, offset: number): ResponseFault | null {
    const size = buf.length - offset;
    const firstLf = buf.indexOf(10, offset);
    if (firstLf < 0 && size > RESPONSE_LIMITS.statusLine) {
      return fault('H25', 'status line over 8192 bytes', H25_DESCS.statusLine);
    }
    // A head that cannot be HTTP is malformed as soon as its first bytes say so.
    const probe = buf.toString('latin1', offset, Math.min(buf.length, offset + 9));
    if (!'HTTP/1.1 '.startsWith(probe) && !'HTTP/1.0 '.startsWith(probe)) {
      return fault('H17', `response starts with ${JSON.stringify(probe)}`);
    }
    const lastLf = buf.lastIndexOf(10);
    if (buf.length - (lastLf < offset ? offset : lastLf + 1) > RESPONSE_LIMITS.headerLine) {
      return fault('H25', 'header line over 512 KiB', H25_DESCS.header);
    }
    if (size > RESPONSE_LIMITS.head)
      return fault('H25', 'response head over 1 MiB', H25_DESCS.header);
    return null;
  }

  #frame(head: ResponseHead): ResponseFault | null {
    // One pass over the headers for the three that frame the response (a hot path: every
    // relayed response goes through here).
    let connection = '';
    let te: string[] | null = null;
    let cls: string[] | null = null;
    for (const [k, v] of head.headers) {
      const n = k.length;
      if (n !== 10 && n !== 14 && n !== 17) continue;
      const lower = k.toLowerCase();
      if (lower === 'connection') connection = connection === '' ? v : `${connection},${v}`;
      else if (lower === 'content-length') cls = cls === null ? [v] : [...cls, v];
      else if (lower === 'transfer-encoding') te = te === null ? [v] : [...te, v];
    }
    connection = connection.toLowerCase();
    this.keepAlive =
      head.version === '1.1'
        ? !/(^|[\s,])close($|[\s,])/.test(connection)
        : /keep-alive/.test(connection);
    if (head.status === 101) {
      this.framing = 'upgrade';
      this.phase = 'done';
      this.keepAlive = false;
      return null;
    }
    const cl = cls === null ? -1 : contentLength(cls);
    if (typeof cl !== 'number') return cl;
    if (this.#noBody || head.status === 204 || head.status === 304) {
      this.framing = 'none';
      this.phase = 'done';
      return null;
    }
    if (te !== null) {
      const codings = te.join(',').toLowerCase().split(',');
      if ((codings[codings.length - 1] ?? '').trim() === 'chunked') {
        this.framing = 'chunked';
        this.#chunked = new ChunkedValidator();
      } else {
        this.framing = 'close';
        this.keepAlive = false;
      }
    } else if (cl >= 0) {
      this.framing = 'length';
      this.#remaining = cl;
    } else {
      this.framing = 'close';
      this.keepAlive = false;
    }
    this.phase = this.framing === 'length' && cl === 0 ? 'done' : 'body';
    return null;
  }

  #body(buf: Buffer, offset: number): number | null {
    const available = buf.length - offset;
    if (available <= 0) return this.phase === 'done' ? offset : null;
    if (this.framing === 'length') {
      const take = Math.min(available, this.#remaining);
      this.#remaining -= take;
      this.bodyBytes += take;
      if (this.#remaining === 0) {
        this.phase = 'done';
        return offset + take;
      }
      return null;
    }
    if (this.framing === 'chunked' && this.#chunked !== null) {
      const r = this.#chunked.push(buf, offset);
      if (r.state === 'error') {
        this.phase = 'error';
        this.fault = fault('H17', `invalid chunked body: ${r.reason}`);
        return null;
      }
      if (r.state === 'done') {
        this.bodyBytes += r.end - offset;
        this.phase = 'done';
        return r.end;
      }
      this.bodyBytes += available;
      return null;
    }
    this.bodyBytes += available; // close-delimited
    return null;
  }
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

function parseHead(text: string, length: number, restrict: boolean): ResponseHead | ResponseFault {
  // Lines are walked with indexOf rather than split + a regex per line: this runs for every
  // relayed response.
  let lineEnd = text.indexOf('\n');
  if (lineEnd < 0) lineEnd = text.length;
  const statusLine = text.slice(0, text.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd);
  if (restrict && statusLine.length > RESPONSE_LIMITS.statusLine) {
    return fault('H25', 'status line over 8192 bytes', H25_DESCS.statusLine);
  }
  const m = STATUS_LINE.exec(statusLine);
  if (m === null) return fault('H17', `status line ${JSON.stringify(statusLine.slice(0, 64))}`);
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
      return fault('H25', 'header line over 512 KiB', H25_DESCS.header);
    }
    const colon = text.indexOf(':', start);
    if (colon < 0 || colon >= stop || colon === start) {
      const line = text.slice(start, stop);
      return fault('H17', `header line without a colon: ${JSON.stringify(line.slice(0, 64))}`);
    }
    const name = text.slice(start, colon);
    if (!TOKEN.test(name)) return fault('H17', `header name ${JSON.stringify(name.slice(0, 64))}`);
    if (restrict && size > RESPONSE_LIMITS.setCookieLine && name.toLowerCase() === 'set-cookie') {
      return fault('H25', `Set-Cookie line of ${size} bytes`, H25_DESCS.cookie);
    }
    headers.push([name, text.slice(colon + 1, stop).trim()]);
  }
  return {
    version: m[1] === '0' ? '1.0' : '1.1',
    status: Number(m[2]),
    reason: m[3] ?? '',
    headers,
    length,
  };
}
