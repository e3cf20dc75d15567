/**
 * An incremental HTTP/1.x response parser: where the head ends, how the body is framed, where
 * the response ends, and whether it breaks the router's rules (H17 malformed, H25 restricted).
 *
 * One parser serves the router (which relays the bytes as they come and must classify H13,
 * H17, H18 and H25 exactly) and every client that classifies an ending (bad-client, probe,
 * tests), so they all agree on what "a complete response" is.
 *
 * Head lines are read by response-head.ts (re-exported here, so this stays the one import for
 * response parsing); this module frames the body: a bad Content-Length is H25 and an invalid
 * chunk H17 (shared/spec/heroku-router.md §1, §2).
 */

import { H25_DESCS } from '../core/codes.js';
import { ChunkedValidator } from './chunked.js';
import {
  checkPartialHead,
  findHeadEnd,
  parseResponseHead,
  type ResponseFault,
  type ResponseHead,
  responseFault,
} from './response-head.js';
import { digitsValue, owsSlice, sameLower } from './token.js';

export {
  findHeadEnd,
  headerValues,
  RESPONSE_LIMITS,
  type ResponseFault,
  type ResponseHead,
} from './response-head.js';

export type Framing = 'none' | 'length' | 'chunked' | 'close' | 'upgrade';

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

const NO_INTERIM: readonly ResponseHead[] = Object.freeze([]);

/** Read `Content-Length` values; identical repeats are one value, anything else is a fault. */
function contentLength(values: readonly string[]): number | ResponseFault {
  let found = -1;
  for (const raw of values) {
    // The common case, one plain number, without splitting it as a list.
    const plain = digitsValue(raw);
    if (plain >= 0) {
      if (found >= 0 && found !== plain) return conflicting();
      found = plain;
      continue;
    }
    for (const part of raw.split(',')) {
      const v = digitsValue(owsSlice(part, 0, part.length));
      if (v < 0) {
        return responseFault(
          'H25',
          `Content-Length ${JSON.stringify(raw)}`,
          H25_DESCS.contentLength,
        );
      }
      if (found >= 0 && found !== v) return conflicting();
      found = v;
    }
  }
  return found;
}

function conflicting(): ResponseFault {
  return responseFault('H25', 'conflicting Content-Length values', H25_DESCS.contentLength);
}

/** Whether a response's Connection values let the connection carry another request. */
function allowsReuse(version: '1.0' | '1.1', connection: string): boolean {
  // Node and most servers send exactly one of these two: no lowercase copy, no pattern.
  if (sameLower(connection, 'keep-alive')) return true;
  if (sameLower(connection, 'close')) return false;
  if (connection === '') return version === '1.1';
  const lower = connection.toLowerCase();
  return version === '1.1' ? !/(^|[\s,])close($|[\s,])/.test(lower) : /keep-alive/.test(lower);
}

export class ResponseParser {
  readonly #noBody: boolean;
  /**
   * A head still arriving, in a buffer that grows by doubling (`#pendingLength` bytes used):
   * a head sent a few bytes at a time costs each byte one copy and one look, not a copy and
   * a scan of everything so far per push (a 1 MiB head in 100-byte reads took seconds).
   */
  #pending: Buffer | null = null;
  #pendingLength = 0;
  /** Bytes of the pending head after its last LF: the header line still arriving. */
  #lineBytes = 0;
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
  /**
   * The head had Transfer-Encoding (chunked or not): its Content-Length, if any, does not
   * frame the body and must not be relayed (RFC 9112 §6.3).
   */
  transferEncoding = false;
  /** The head's Content-Length (-1: none), whether or not it frames the body. */
  declaredLength = -1;

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
      // Where the blank line may end: only bytes new since the last look (a blank line that
      // ends in them starts with an LF at most 2 bytes before them).
      let scanFrom = offset;
      if (this.#pending !== null) {
        scanFrom = Math.max(0, this.#pendingLength - 2);
        buf = this.#append(buf.subarray(offset));
        offset = 0;
      }
      const end = findHeadEnd(buf, scanFrom);
      if (end < 0) {
        if (this.#pending === null) {
          this.#lineBytes = 0;
          this.#append(buf.subarray(offset));
        }
        const tooLong = checkPartialHead(buf, offset, this.#lineBytes);
        if (tooLong !== null) return this.#fail(tooLong, interim ?? NO_INTERIM);
        return { interim: interim ?? NO_INTERIM, head: null, bodyStart: 0, end: null, fault: null };
      }
      this.#pending = null;
      this.#pendingLength = 0;
      const parsed = parseResponseHead(
        buf.toString('latin1', offset, end),
        end - offset,
        this.#restrict,
      );
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

  /**
   * Add `bytes` to the pending head (a copy: the caller's chunk may be a read buffer that is
   * reused) and return the head so far. Tracks the length of the line still arriving.
   */
  #append(bytes: Buffer): Buffer {
    const used = this.#pendingLength;
    const need = used + bytes.length;
    let pending = this.#pending;
    if (pending === null || pending.length < need) {
      const grown = Buffer.allocUnsafe(Math.max(need, 2 * (pending?.length ?? 0), 1024));
      if (pending !== null) pending.copy(grown, 0, 0, used);
      pending = grown;
      this.#pending = grown;
    }
    bytes.copy(pending, used);
    this.#pendingLength = need;
    const lf = bytes.lastIndexOf(10);
    this.#lineBytes = lf < 0 ? this.#lineBytes + bytes.length : bytes.length - lf - 1;
    return pending.subarray(0, need);
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
    this.#pendingLength = 0;
    return { interim, head: null, bodyStart: 0, end: null, fault: f };
  }

  #frame(head: ResponseHead): ResponseFault | null {
    // One pass over the headers for the three that frame the response (a hot path: every
    // relayed response goes through here).
    let connection = '';
    let te: string[] | null = null;
    let cls: string[] | null = null;
    // sameLower rejects other lengths at once: no lowercase copy per header.
    for (const [k, v] of head.headers) {
      if (sameLower(k, 'connection')) connection = connection === '' ? v : `${connection},${v}`;
      else if (sameLower(k, 'content-length')) {
        if (cls === null) cls = [v];
        else cls.push(v);
      } else if (sameLower(k, 'transfer-encoding')) {
        if (te === null) te = [v];
        else te.push(v);
      }
    }
    this.keepAlive = allowsReuse(head.version, connection);
    this.transferEncoding = te !== null;
    if (head.status === 101) {
      this.framing = 'upgrade';
      this.phase = 'done';
      this.keepAlive = false;
      return null;
    }
    const cl = cls === null ? -1 : contentLength(cls);
    if (typeof cl !== 'number') return cl;
    this.declaredLength = cl;
    if (this.#noBody || head.status === 204 || head.status === 304) {
      this.framing = 'none';
      this.phase = 'done';
      return null;
    }
    if (te !== null) {
      const codings = te.join(',').toLowerCase().split(',');
      const last = codings[codings.length - 1] ?? '';
      if (owsSlice(last, 0, last.length) === 'chunked') {
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
        this.fault = responseFault('H17', `invalid chunked body: ${r.reason}`);
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
