/**
 * Would Heroku's router hand this request to the app as it was sent? Decided with the router's
 * own parser (parseRequestHead) and chunked walker, so the probe and `h13 router` never
 * disagree.
 *
 * Heroku's router parses the request and writes a new head to the dyno (the router's own
 * rewrite, src/router/forward-head.ts, used here as is): hop-by-hop fields removed, framing
 * written by the router, `Expect: 100-continue` answered by the router itself. So a
 * malformation reaches the app only when that rewrite equals the bytes sent; a case whose
 * rewrite differs is reported as `rewrite` (the app never sees the odd bytes).
 */

import { H26_CAUSES, statusFor } from '../core/codes.js';
import { ChunkedValidator } from '../http/chunked.js';
import { parseRequestHead, type RequestHead } from '../http/request-head.js';
import { buildRequestHead, type ForwardContext } from '../router/forward-head.js';

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
    const status = h26Status(head.h26);
    return { kind: 'reject', status, reason: `H26 ${head.h26}` };
  }
  const end = messageEnd(bytes, head);
  if (typeof end === 'string') {
    return end.startsWith('H26')
      ? { kind: 'reject', status: h26Status(H26_CAUSES.badChunk), reason: end }
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
  return reachesAppAsSent(bytes, head)
    ? { kind: 'forward', status: null, reason: 'well-formed for the router' }
    : { kind: 'rewrite', status: null, reason: 'the router normalises the head' };
}

/** The status the router answers an H26 with, from the codes table. */
const h26Status = (cause: string): number => statusFor('H26', cause) ?? 400;

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

/** A context for the router's own rewrite; its request id marks where the router's own fields start. */
const PROBE_CONTEXT: ForwardContext = {
  requestId: 'h13-probe-verdict-marker',
  fwd: '127.0.0.1',
  via: '1.1 vegur',
  port: 80,
  requestStartMs: 0,
  connectMs: 0,
  totalRouteMs: 0,
  keepAlive: true,
};

/**
 * Whether the app receives the head as sent: the router's own rewrite (forward-head.ts, the
 * code `h13 router` runs) up to the fields the router adds, compared line by line with the
 * bytes sent. The router writes the framing line (Content-Length or Transfer-Encoding) last;
 * a client line identical to it is the same bytes in another place.
 */
function reachesAppAsSent(bytes: Buffer, head: RequestHead): boolean {
  const forwarded = buildRequestHead(head, PROBE_CONTEXT);
  const lines = forwarded
    .slice(0, forwarded.indexOf(`\r\nX-Request-Id: ${PROBE_CONTEXT.requestId}\r\n`))
    .split('\r\n');
  const sentText = bytes.subarray(0, head.length).toString('latin1');
  if (!sentText.endsWith('\r\n\r\n')) return false;
  const sent = sentText.slice(0, -4).split('\r\n');
  const last = lines.length > 1 ? lines[lines.length - 1] : undefined;
  if (last !== undefined && /^(?:Content-Length: \d+|Transfer-Encoding: chunked)$/.test(last)) {
    const at = sent.indexOf(last);
    lines.pop();
    if (at > 0) sent.splice(at, 1);
  }
  return lines.length === sent.length && lines.every((line, i) => line === sent[i]);
}
