/**
 * H13 and H18 with no app evidence: a cause named from the request alone (its method and
 * path, the router generation, how long it ran), with a confidence that says so.
 */

import type { RouterRecord } from '../core/router-line.js';
import type { Evidence } from './evidence.js';
import type { Verdict } from './verdict.js';

const STANDARD_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'TRACE',
  'PROPFIND',
  'PROPPATCH',
  'MKCOL',
  'COPY',
  'MOVE',
  'LOCK',
  'UNLOCK',
  'REPORT',
  'SEARCH',
  'PURGE',
]);

// Characters RFC 3986 allows in a path and query, plus `%` followed by two hex digits.
const PATH_OK = /^(?:\/|\*$)(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?[\]]|%[0-9A-Fa-f]{2})*$/;

/** A request Node's HTTP parser (llhttp) would refuse, or a client doing something odd. */
export function isOddRequest(method: string, path: string): boolean {
  if (!STANDARD_METHODS.has(method)) return true;
  if (path.length > 8000) return true;
  return !PATH_OK.test(path);
}

/** Router 2.0 logs `protocol=http1.1`/`http2.0` and `tls=`; the legacy router http/https. */
export function isRouter2(r: RouterRecord): boolean {
  return r.tls !== null || (r.protocol?.startsWith('http') === true && r.protocol.length > 5);
}

/** Rules for the codes that need no app evidence (or when none was found). */
export function noEvidence(r: RouterRecord, ev: readonly Evidence[]): Verdict {
  const withId = ev.filter((e) => e.kind === 'request-id').slice(0, 4);
  const service = r.serviceMs ?? 0;
  if (r.code === 'H18') {
    return {
      cause: 'partial-response',
      confidence: 'medium',
      reason: `the dyno closed the connection after ${r.bytes ?? '?'} bytes of the response, with nothing logged`,
      proof: withId,
    };
  }
  // A line cut before its method says nothing about the request.
  if (r.method !== '' && isOddRequest(r.method, r.path)) {
    return {
      cause: 'bad-client',
      confidence: 'medium',
      reason: `the request itself is odd (${r.method} ${r.path.slice(0, 60)}) and the app logged nothing`,
      proof: withId,
    };
  }
  if (isRouter2(r) && service <= 100 && withId.length === 0) {
    return {
      cause: 'keep-alive-race',
      confidence: r.method === 'POST' || service <= 10 ? 'medium' : 'low',
      reason: `Router 2.0 (${r.protocol}), no app evidence, the close came ${service} ms into the request`,
      proof: [],
    };
  }
  if (service >= 28_000) {
    return {
      cause: 'worker-timeout',
      confidence: 'low',
      reason: `closed after ${service} ms with nothing logged: the length of an app-server worker timeout`,
      proof: withId,
    };
  }
  if (service >= 500) {
    return {
      cause: 'socket-timeout',
      confidence: 'low',
      reason: `closed after ${service} ms of silence with nothing logged: a socket or server timeout`,
      proof: withId,
    };
  }
  if (withId.length > 0) {
    return {
      cause: 'silent-close',
      confidence: 'medium',
      reason: 'the app logged this request id but never answered it',
      proof: withId,
    };
  }
  return {
    cause: 'silent-close',
    confidence: 'low',
    reason: `closed ${service} ms into the request with no crash, error or restart nearby`,
    proof: [],
  };
}
