/**
 * Would Heroku's router hand this request to the app as it was sent? Decided with the router's
 * own parser (parseRequestHead) and chunked walker, so the probe and `h13 router` never
 * disagree.
 *
 * Heroku's router parses the request and writes a new head to the dyno: one space between the
 * request-line parts, `Name: value` with CRLF, hop-by-hop fields removed, repeated identical
 * Content-Length values merged, `Expect: 100-continue` answered by the router itself. So a
 * malformation reaches the app only when that canonical rewrite equals the bytes sent; a case
 * whose rewrite differs is reported as `rewrite` (the app never sees the odd bytes).
 */

import { H26_CAUSES } from '../core/codes.js';
import { ChunkedValidator } from '../http/chunked.js';
import { parseRequestHead, type RequestHead } from '../http/request-head.js';

export const VERDICTS = {
  forward: 'the router forwards these bytes to the app as sent',
  rewrite: 'the router forwards a rewritten, well-formed version: the app never sees these bytes',
  reject: 'the router answers this request itself; it never reaches the app',
  split: 'more than one request: the router forwards them one at a time, never pipelined',
  incomplete: 'not a complete request: the router waits for more bytes',
} as const;

export type VerdictKind = keyof typeof VERDICTS;

export interface RouterVerdict {
  readonly kind: VerdictKind;
  /** The status the router answers with, for `reject`. */
  readonly status: number | null;
  /** Why, in a few words (the parser's reason, the H26 cause, the leftover). */
  readonly reason: string;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'te', 'proxy-authorization']);

export function routerVerdict(bytes: Buffer): RouterVerdict {
  const parsed = parseRequestHead(bytes);
  if (parsed.kind === 'incomplete') {
    return { kind: 'incomplete', status: null, reason: 'no complete request head' };
  }
  if (parsed.kind === 'reject') {
    return { kind: 'reject', status: parsed.status, reason: parsed.reason };
  }
  const head = parsed.head;
  if (head.h26 !== null) {
    const status = head.h26 === H26_CAUSES.expect ? 417 : 400;
    return { kind: 'reject', status, reason: `H26 ${head.h26}` };
  }
  const end = messageEnd(bytes, head);
  if (typeof end === 'string') {
    return end.startsWith('H26')
      ? { kind: 'reject', status: 400, reason: end }
      : { kind: 'incomplete', status: null, reason: end };
  }
  if (end < bytes.length) {
    const next = parseRequestHead(bytes, end);
    const rest = !head.keepAlive
      ? 'the first request says Connection: close, so the router never reads the rest'
      : next.kind === 'reject'
        ? `the router answers the next request itself (${next.status}: ${next.reason})`
        : next.kind === 'incomplete'
          ? `${bytes.length - end} left-over bytes wait for more`
          : 'each request is forwarded on its own';
    return { kind: 'split', status: null, reason: rest };
  }
  const canonical = canonicalHead(head);
  const sentHead = bytes.subarray(0, head.length);
  return canonical.equals(sentHead)
    ? { kind: 'forward', status: null, reason: 'well-formed for the router' }
    : { kind: 'rewrite', status: null, reason: 'the router normalises the head' };
}

/** Where the first message's body ends, or why it cannot be known / is refused. */
function messageEnd(bytes: Buffer, head: RequestHead): number | string {
  const framing = head.framing;
  if (framing.kind === 'none') return head.length;
  if (framing.kind === 'length') {
    const end = head.length + framing.length;
    return end <= bytes.length ? end : 'body shorter than Content-Length';
  }
  const walker = new ChunkedValidator();
  const r = walker.push(bytes, head.length);
  if (r.state === 'error') return `H26 ${H26_CAUSES.badChunk}: ${r.reason}`;
  if (r.state === 'more') return 'unterminated chunked body';
  return r.end;
}

/** The head Heroku's router writes to the dyno for this request (without its own fields). */
function canonicalHead(head: RequestHead): Buffer {
  let text = `${head.method} ${head.target} HTTP/${head.version}\r\n`;
  let lengthWritten = false;
  for (const [name, value] of head.headers) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) continue;
    if (lower === 'expect' && head.expectContinue) continue;
    if (lower === 'content-length') {
      if (lengthWritten) continue;
      lengthWritten = true;
      const merged = value.split(',')[0]?.trim() ?? value;
      text += `${name}: ${merged}\r\n`;
      continue;
    }
    text += `${name}: ${value}\r\n`;
  }
  if (head.upgrade !== null) text += 'Connection: Upgrade\r\n';
  return Buffer.from(`${text}\r\n`, 'latin1');
}
