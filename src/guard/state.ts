/**
 * The guard's state: per server, per socket, and the process-wide phase and counters.
 */

import type http from 'node:http';
import type { Socket } from 'node:net';
import type { ResolvedOptions } from './options.js';
import type { Output } from './output.js';
import type { RequestRecord } from './record.js';

export type Phase = 'running' | 'draining' | 'crashing' | 'exiting';

export interface ServerState {
  readonly server: http.Server;
  readonly options: ResolvedOptions;
  readonly out: Output;
  readonly sockets: Set<Socket>;
  /** The server's emit as it was before the guard wrapped it. */
  readonly emit: (this: http.Server, event: string | symbol, ...args: unknown[]) => boolean;
  /** A single request listener may be called without `emit` (direct-call.ts). */
  readonly direct: boolean;
  /** Echo the request id with res.setHeader (only where the cheaper path is unavailable). */
  readonly setIdHeader: boolean;
  /** Resolved by the net-level close callback once every connection has ended. */
  closed: Promise<void> | null;
  /** The server emitted 'close'. */
  closedDone: boolean;
  /** The keepAliveTimeout the guard set (keep-alive.ts tells it from the app's own). */
  keepAliveSet: number | undefined;
  /** Settings already warned about (keep-alive.ts: once per setting). */
  readonly warnedTimeouts: Set<'keepAliveTimeout'>;
}

export class SocketState {
  readonly server: ServerState;
  /**
   * The latest request on this socket, until its response is detached from the socket
   * (release.ts) or, for the last response on a connection, until the socket closes;
   * liveRecord() tells whether its response is still open.
   */
  current: RequestRecord | null = null;
  requests = 0;
  /** The stack of a destroy() called while a response was owed. */
  destroyStack: Error | null = null;
  /** ECONNRESET/EPIPE/...: the client reset the connection. */
  clientGone: string | undefined = undefined;
  /** Inside the app's own clientError listener. */
  inClientError = false;
  /** bytesWritten when the app's clientError listener was called. */
  clientErrorBytes = 0;
  /** The code of a clientError seen on this socket (Node or a listener then closes it). */
  clientErrorSeen: string | undefined = undefined;
  /** What the guard writes if the app's listener destroys without answering. */
  clientErrorStatus = 400;
  clientErrorId: string | undefined = undefined;
  /** Node, the app or the guard wrote an answer to that client error. */
  clientErrorAnswered = false;
  /** The guard itself is closing this socket (reaper, deadline, cut): never deferred. */
  guardClosing = false;
  /** A client error waits for the response owed on this socket (client-error.ts). */
  clientErrorWaits = false;
  /** A client error waits for the owed response; later parser errors are swallowed. */
  clientErrorPending = false;
  /** The app's clientError listener destroyed the socket while it waited. */
  clientErrorDestroyed = false;
  /** Node answers this client error and destroys next: that destroy lingers (linger.ts). */
  lingerNext = false;
  /** Answered and closing: FIN sent, the client's bytes discarded until close (linger.ts). */
  lingering = false;
  /** Shutdown reaper: bytesRead when the socket was first seen idle, and when. */
  quietBytes = -1;
  quietSince = 0;

  constructor(server: ServerState) {
    this.server = server;
  }
}

export const kSocketState = Symbol('h13.guard.socket');

/** The latest request on the socket whose response has not closed yet (Node's res.closed). */
export function liveRecord(s: SocketState): RequestRecord | null {
  const rec = s.current;
  return rec !== null && !rec.res.closed ? rec : null;
}

export function socketState(socket: Socket): SocketState | undefined {
  return (socket as unknown as { [kSocketState]?: SocketState })[kSocketState];
}

/** Counters for tests, benchmarks and the exit line; plain numbers, no allocation. */
export const stats = {
  requests: 0,
  /** Closed with nothing written (H13) and with part written (H18), not answered by the guard. */
  h13: 0,
  h18: 0,
  /** The client reset or closed before the request was complete. */
  clientAborted: 0,
  /** A FIN after a complete request: ambiguous, counted apart. */
  clientFinAfterRequest: 0,
  /** Answered by the guard on the app's behalf (destroy, socket timeout, crash, deadline). */
  answered: 0,
  clientErrors: 0,
  /** Sockets destroyed with bytes read and none written, before any request. */
  preRequestCloses: 0,
};

/** The process-wide phase and every guarded server. */
export const registry = {
  phase: 'running' as Phase,
  servers: new Set<ServerState>(),
};

export type GuardStats = Readonly<typeof stats>;

export function snapshotStats(): GuardStats {
  return { ...stats };
}
