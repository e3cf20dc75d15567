/**
 * H13 and H18 with no app evidence: a cause named from the request alone (its method and
 * path, the router generation, how long it ran), with a confidence that says so.
 */

import type { RouterRecord } from '../core/router-line.js';
import { accessVerdict } from './access-rule.js';
import type { Evidence } from './evidence.js';
import type { Verdict, Windows } from './verdict.js';

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

/** A path an author redacted when publishing the line (`<app>`, `xxx`, `...`): not the client's. */
const REDACTED = /[<>]|\.\.\.|…|x{3,}|X{3,}|\[redacted\]|\*{3,}/;

/**
 * H13 and H18 with no app evidence. The router line alone: a request the app logged by its id
 * is one it received and never answered; an odd method is the client's; anything else is
 * `unknown`, with what its signature would fit named as a hint (never as a finding).
 */
export function noEvidence(r: RouterRecord, w: Windows, ev: readonly Evidence[]): Verdict {
  const access = accessVerdict(r, w, ev);
  if (access !== null) return access;
  // A line naming the request: its id, or Rails' `Started` line for its method and path.
  const withId = ev
    .filter((e) => e.kind === 'request-id' || (e.kind === 'access' && e.access?.started === true))
    .slice(0, 4);
  const service = r.serviceMs ?? 0;
  if (withId.length > 0) {
    return r.code === 'H18'
      ? {
          cause: 'partial-response',
          confidence: 'medium',
          reason: `the app logged this request and the dyno closed the connection after ${r.bytes ?? '?'} bytes of the response`,
          proof: withId,
        }
      : service >= 500
        ? {
            cause: 'socket-timeout',
            confidence: 'medium',
            reason: `the app logged this request, then nothing for ${service} ms until the connection closed: a socket or server timeout`,
            proof: withId,
          }
        : {
            cause: 'silent-close',
            confidence: 'medium',
            reason: 'the app logged this request but never answered it',
            proof: withId,
          };
  }
  // A line cut before its method says nothing about the request; a redacted path is the author's.
  if (r.method !== '' && !REDACTED.test(r.path) && isOddRequest(r.method, r.path)) {
    return {
      cause: 'bad-client',
      confidence: 'medium',
      reason: `the request itself is odd (${r.method} ${r.path.slice(0, 60)}), one Node's parser may refuse`,
      proof: [],
    };
  }
  return { cause: 'unknown', confidence: 'low', reason: unknownReason(r, service), proof: [] };
}

/** What the router line alone would fit: a hint for the reader, with the evidence it lacks. */
function unknownReason(r: RouterRecord, service: number): string {
  const head = 'the logs read hold no evidence for this request beyond the router line';
  if (r.code === 'H18')
    return `${head}; the dyno closed the connection after ${r.bytes ?? '?'} bytes of the response`;
  if (isRouter2(r) && service <= 100)
    return `${head}; its signature (Router 2.0, closed ${service} ms in) fits a keep-alive race`;
  if (service >= 28_000)
    return `${head}; closed after ${service} ms, the length of an app-server worker timeout`;
  if (service >= 500)
    return `${head}; closed after ${service} ms, which fits a socket or server timeout`;
  return `${head}; closed ${service} ms into the request`;
}
