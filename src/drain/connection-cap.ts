/**
 * `--max-connections` that slow clients cannot fill. Node's own `server.maxConnections` closes
 * every connection past the cap at accept, so a few clients that open connections and send
 * their request heads a byte at a time (slowloris) can hold every place until
 * `--headers-timeout` and lock out logplex and the API meanwhile.
 *
 * Here a connection is *waiting* from accept until its request head is complete, and again
 * from the end of each answer until the next head (keep-alive idle): it holds no request.
 * When a connection arrives at the cap, the connection that has been waiting longest is closed
 * to make room; only when every open connection has a request in progress is the newcomer
 * closed at accept. A real sender sends its head in one go and is in progress at once, so a
 * crowd of slow or idle connections cannot keep it out. The bound on memory is unchanged:
 * bodies are only read by requests in progress, at most the cap of them.
 *
 * Behind Heroku's router this matters less (the router reads a head before it opens the
 * connection to the dyno), but a drain reachable directly, or through a proxy that streams
 * heads, needs it. A per-address cap would not help there: behind a router or proxy every
 * connection comes from its address.
 */

import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionCapCounts {
  /** Waiting connections closed to make room for a new one. */
  evicted: number;
  /** New connections closed at accept because every place had a request in progress. */
  refused: number;
}

/** How often at most the cap says on the drain's log that it closed connections. */
const REPORT_EVERY_MS = 10_000;

export function capConnections(
  server: Server,
  max: number,
  log: (fields: Record<string, string | number>) => void = () => {},
): ConnectionCapCounts {
  const counts: ConnectionCapCounts = { evicted: 0, refused: 0 };
  // One log line per period under a flood, with the totals, not one per connection.
  let reported = { evicted: 0, refused: 0 };
  let timer: NodeJS.Timeout | null = null;
  const report = () => {
    const evicted = counts.evicted - reported.evicted;
    const refused = counts.refused - reported.refused;
    if (evicted + refused === 0) {
      timer = null;
      return;
    }
    reported = { ...counts };
    log({ at: 'warn', event: 'connections-closed', evicted, refused, max });
    timer = setTimeout(report, REPORT_EVERY_MS);
    timer.unref();
  };
  const closed = () => {
    if (timer === null) report();
  };
  const live = new Set<Socket>();
  // Oldest first (a Set iterates in insertion order); a connection re-enters at the end.
  const waiting = new Set<Socket>();
  // Requests in progress per connection (pipelined requests can overlap their answers).
  const active = new WeakMap<Socket, number>();
  // A backstop far past the cap: sockets closed here are counted by Node until their close
  // event, so a burst of arrivals must not be cut by Node's own check first.
  server.maxConnections = max * 2 + 16;
  server.on('connection', (socket: Socket) => {
    if (live.size >= max) {
      const oldest: Socket | undefined = waiting.values().next().value;
      if (oldest === undefined) {
        counts.refused++;
        socket.destroy();
        closed();
        return;
      }
      counts.evicted++;
      waiting.delete(oldest);
      live.delete(oldest);
      oldest.destroy();
      closed();
    }
    live.add(socket);
    waiting.add(socket);
    socket.once('close', () => {
      live.delete(socket);
      waiting.delete(socket);
    });
  });
  server.on('request', (req, res) => {
    const socket = req.socket;
    waiting.delete(socket);
    active.set(socket, (active.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const left = (active.get(socket) ?? 1) - 1;
      active.set(socket, left);
      if (left === 0 && live.has(socket) && !socket.destroyed) waiting.add(socket);
    });
  });
  return counts;
}
