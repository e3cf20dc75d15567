/**
 * Keep-alive tuning behind a proxy: the proxy must always be the side that closes an idle
 * connection, so keepAliveTimeout goes above its idle timeout, headersTimeout above
 * keepAliveTimeout + 1 s, requestTimeout at or above headersTimeout (0 = off is allowed).
 *
 * Frameworks and apps set these after the guard did (as plain properties, which skips the
 * constructor's checks), so they are checked again on every new connection, with a warning
 * (one line per setting) when one went below what the proxy needs. Not on every write:
 * accessors on the instance would see each write, but they turn the server into a
 * dictionary-mode object, and Node reads the server's properties several times per request
 * (measured: about 100 ns more per request, a quarter of what the guard cost then).
 */

import type http from 'node:http';
import type { ServerState } from './state.js';

/** Node 20 keeps an idle socket keepAliveTimeout + 1 s; the headers budget must exceed that. */
const NODE_BUFFER_MS = 1000;

export type TimeoutKey = 'keepAliveTimeout' | 'headersTimeout' | 'requestTimeout';

export interface KeepAliveTargets {
  readonly keepAliveTimeout: number;
  readonly headersTimeout: number;
}

export function targetsFor(keepAliveMs: number): KeepAliveTargets {
  return { keepAliveTimeout: keepAliveMs, headersTimeout: keepAliveMs + NODE_BUFFER_MS + 1000 };
}

/** What is wrong with a server's three timeouts for a proxy idling `keepAliveMs`, if anything. */
export function timeoutProblem(
  values: Readonly<Record<TimeoutKey, number>>,
  keepAliveMs: number,
): { key: TimeoutKey; wanted: string } | null {
  if (values.keepAliveTimeout < keepAliveMs)
    return { key: 'keepAliveTimeout', wanted: `>= ${keepAliveMs}` };
  if (
    values.headersTimeout !== 0 &&
    values.headersTimeout <= values.keepAliveTimeout + NODE_BUFFER_MS
  )
    return {
      key: 'headersTimeout',
      wanted: `> ${values.keepAliveTimeout + NODE_BUFFER_MS} (keepAliveTimeout + 1 s)`,
    };
  if (values.requestTimeout !== 0 && values.requestTimeout < values.headersTimeout)
    return { key: 'requestTimeout', wanted: `0 or >= headersTimeout (${values.headersTimeout})` };
  return null;
}

export function tuneKeepAlive(st: ServerState): void {
  const keepAliveMs = st.options.keepAlive;
  if (keepAliveMs === false) return;
  const server = st.server;
  const targets = targetsFor(keepAliveMs);
  server.keepAliveTimeout = Math.max(server.keepAliveTimeout, targets.keepAliveTimeout);
  server.headersTimeout = Math.max(server.headersTimeout, targets.headersTimeout);
  if (server.requestTimeout !== 0 && server.requestTimeout < server.headersTimeout)
    server.requestTimeout = server.headersTimeout;
}

/** On a new connection: warn when the app or a framework lowered a timeout since. */
export function checkKeepAlive(st: ServerState): void {
  const keepAliveMs = st.options.keepAlive;
  if (keepAliveMs === false) return;
  const problem = timeoutProblem(currentTimeouts(st.server), keepAliveMs);
  if (problem === null || st.warnedTimeouts.has(problem.key)) return;
  st.warnedTimeouts.add(problem.key);
  warn(st, problem.key, st.server[problem.key], problem.wanted, keepAliveMs);
}

function warn(st: ServerState, key: TimeoutKey, value: number, wanted: string, proxyMs: number) {
  st.out.line(
    'warning',
    {
      event: 'keep_alive',
      desc: `${key} was set below what the proxy needs; idle connections may be closed under a request (H13/H18)`,
      setting: key,
      value,
      wanted,
      profile: st.options.keepAliveProfile,
      proxy_keep_alive: proxyMs,
    },
    `${key} was set below what the proxy needs`,
  );
}

/** The server's effective timeouts, for the startup line and tests. */
export function currentTimeouts(server: http.Server): Readonly<Record<TimeoutKey, number>> {
  return {
    keepAliveTimeout: server.keepAliveTimeout,
    headersTimeout: server.headersTimeout,
    requestTimeout: server.requestTimeout,
  };
}
