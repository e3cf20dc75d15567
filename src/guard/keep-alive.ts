/**
 * Keep-alive tuning behind a proxy: the proxy must always be the side that closes an idle
 * connection, so keepAliveTimeout goes above its idle timeout, headersTimeout above
 * keepAliveTimeout + 1 s, requestTimeout at or above headersTimeout (0 = off is allowed).
 *
 * Setting them as properties skips the constructor's checks, and frameworks or apps set them
 * after the guard did, so the three become accessors on the server instance that warn (one
 * line per setting) when a later write goes below what the proxy needs.
 */

import type http from 'node:http';
import type { ServerState } from './state.js';

/** Node 20 keeps an idle socket keepAliveTimeout + 1 s; the headers budget must exceed that. */
const NODE_BUFFER_MS = 1000;

type TimeoutKey = 'keepAliveTimeout' | 'headersTimeout' | 'requestTimeout';

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
  const values: Record<TimeoutKey, number> = {
    keepAliveTimeout: Math.max(server.keepAliveTimeout, targets.keepAliveTimeout),
    headersTimeout: Math.max(server.headersTimeout, targets.headersTimeout),
    requestTimeout: server.requestTimeout,
  };
  if (values.requestTimeout !== 0 && values.requestTimeout < values.headersTimeout)
    values.requestTimeout = values.headersTimeout;
  const warned = new Set<TimeoutKey>();
  for (const key of ['keepAliveTimeout', 'headersTimeout', 'requestTimeout'] as const) {
    Object.defineProperty(server, key, {
      configurable: true,
      enumerable: true,
      get: () => values[key],
      set: (value: number) => {
        values[key] = value;
        const problem = timeoutProblem(values, keepAliveMs);
        if (problem === null || warned.has(problem.key)) return;
        warned.add(problem.key);
        warn(st, problem.key, values[problem.key], problem.wanted, keepAliveMs);
      },
    });
  }
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
