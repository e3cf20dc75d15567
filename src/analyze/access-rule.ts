/**
 * The app's own access-log line for the request (access-line.ts), as the cause of an H13 or
 * H18 when nothing stronger (a crash, a restart, an error) is in the logs: the app says how
 * it ended the request, the router how the connection ended.
 */

import type { RouterRecord } from '../core/router-line.js';
import type { Evidence } from './evidence.js';
import { UNTIMED_US } from './types.js';
import type { Verdict, Windows } from './verdict.js';

/** Matched by time as well as method and path: both lines carry a time of their own. */
function timed(e: Evidence, w: Windows): boolean {
  if (w.t < UNTIMED_US || e.micros < UNTIMED_US) return false;
  return e.process !== '' || !Number.isNaN(e.access?.micros ?? Number.NaN);
}

/**
 * The access line that ends the request (a status, or none where one was due), or null.
 * Rails' `Started` line only says the request arrived: the caller reads it like a line
 * naming the request id.
 */
export function accessVerdict(
  r: RouterRecord,
  w: Windows,
  ev: readonly Evidence[],
): Verdict | null {
  const lines = ev.filter((e) => e.kind === 'access' && e.access?.started === false);
  const e = lines[0];
  const a = e?.access;
  if (e === undefined || a === undefined) return null;
  const proof = lines.slice(0, 3);
  const bytes = r.bytes ?? '?';
  if (r.code === 'H18') {
    return {
      cause: 'partial-response',
      confidence: a.status !== null && timed(e, w) ? 'high' : 'medium',
      reason:
        a.status === null
          ? `the app logged the request without a status (${e.detail}) and the dyno closed the connection after ${bytes} bytes`
          : `the app logged answering it (${e.detail}) and the dyno closed the connection after ${bytes} bytes, ${r.serviceMs ?? '?'} ms in: it answered and closed before the exchange was complete`,
      proof,
    };
  }
  if (a.status === null) {
    return {
      cause: 'silent-close',
      confidence: 'medium',
      reason: `the app's access log shows the request without a status (${e.detail}): it closed the connection without answering`,
      proof,
    };
  }
  if (a.status >= 500) {
    return {
      cause: 'app-error',
      confidence: 'medium',
      reason: `the app logged ${e.detail}: its error path answered ${a.status}, yet the router got no response (the connection closed first)`,
      proof,
    };
  }
  return {
    cause: 'partial-response',
    confidence: 'medium',
    reason: `the app logged ${e.detail} (it wrote a response), yet the router got none: the connection closed before it went out`,
    proof,
  };
}
