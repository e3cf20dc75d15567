/**
 * Keep-alive behind a proxy: the proxy must always be the side that closes an idle
 * connection, so a server's keepAliveTimeout must outlive the proxy's idle timeout (Router
 * 2.0 keeps idle connections to dynos for 90 s).
 *
 * The guard only replaces a default (Node's 5 s, Fastify's 72 s). A value the app set itself
 * is kept (it may be the app's choice for reasons the guard cannot see); when it is below the
 * profile's value, one warning says how to fix it. headersTimeout and requestTimeout are left
 * alone: they bound a request in progress (Node's connection list checks a connection only
 * between a message's start and its end), never an idle keep-alive connection, so they play
 * no part in the race, and raising them would switch off the slow-client protection the app
 * chose (test/guard/options.test.ts proves both on the running Node).
 *
 * Frameworks set the value after the guard did (as a plain property), so it is looked at again
 * on every new connection, not on every write: accessors on the instance would see each write,
 * but they turn the server into a dictionary-mode object, and Node reads the server's
 * properties several times per request.
 */

import { EVENT } from '../core/guard-vocabulary.js';
import type { ServerState } from './state.js';

/**
 * Defaults nobody chose for this proxy, replaced like Node's own: Node's keepAliveTimeout (the
 * same on Node 22, 24 and 26) and Fastify's (72 s, chosen for a 60 s load balancer; below
 * Router 2.0's 90 s). An app that passes exactly one of these values is treated the same way.
 */
export const DEFAULT_KEEP_ALIVE_MS: ReadonlySet<number> = new Set([5000, 72_000]);

/** Set the profile's keepAliveTimeout where Node's default (or the guard's own) is in place. */
export function tuneKeepAlive(st: ServerState): void {
  const target = st.options.keepAlive;
  if (target === false) return;
  const server = st.server;
  const value = server.keepAliveTimeout;
  if (value === target) return;
  if (DEFAULT_KEEP_ALIVE_MS.has(value) || value === st.keepAliveSet) {
    server.keepAliveTimeout = target;
    st.keepAliveSet = target;
    return;
  }
  // The app's or its framework's own value: kept.
  if (value < target && !st.warnedTimeouts.has('keepAliveTimeout')) {
    st.warnedTimeouts.add('keepAliveTimeout');
    warn(st, value, target);
  }
}

function warn(st: ServerState, value: number, target: number) {
  st.out.line(
    'warning',
    {
      event: EVENT.keep_alive,
      desc: `keepAliveTimeout was set to ${value} ms by the app or its framework, below the ${target} ms the proxy needs: the proxy may send a request on a connection the app is closing (H13/H18). Set server.keepAliveTimeout = ${target} (Fastify: the keepAliveTimeout option), or remove the setting and let the guard set it`,
      setting: 'keepAliveTimeout',
      value,
      wanted: `>= ${target}`,
      profile: st.options.keepAliveProfile,
    },
    'keepAliveTimeout was set below what the proxy needs',
  );
}
