/**
 * Connections from the router to dynos. Router 2.0 keeps a pool of idle keep-alive
 * connections per dyno (closed after `poolIdle`); the legacy router opens one per request and
 * asks for `Connection: close` (spec §2).
 *
 * The pool is honest about the keep-alive race (spec §5.4): an idle connection is handed out
 * as it is, with no liveness probe, so a request written on a socket the dyno is closing at
 * that instant fails as on Heroku: H18 for a POST, a retry on a fresh connection for a GET
 * (exchange-routing.ts, retriesAfterPoolRace).
 *
 * Each socket gets its listeners once, when it is opened; events go to whichever request owns
 * the connection at that moment (`owner`), so no per-request closure is created.
 *
 * Idle expiry is one timer for the whole pool, armed for the oldest idle connection, rather
 * than socket.setTimeout on every take and release (two timer re-insertions per request).
 *
 * Dyno sockets read into a buffer of their own (net.connect's `onread`) instead of through
 * the stream's 'data' events: no 64 KiB ArrayBuffer is allocated and swept per read, and no
 * Readable bookkeeping runs. A chunk is therefore only valid during `onDynoData`. Whoever
 * writes a view of it to another socket calls `lendIfQueued`: when that write could not go
 * out at once (the socket keeps a reference), the connection reads into a new buffer next.
 */

import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Dyno } from './dynos.js';

/** What a request implements to receive its dyno connection's events. */
export interface DynoListener {
  onDynoConnect(conn: DynoConnection): void;
  onDynoData(conn: DynoConnection, chunk: Buffer): void;
  /** The dyno sent FIN, or the socket closed or failed: classify now (H13/H18/...). */
  onDynoGone(conn: DynoConnection): void;
  onDynoDrain(conn: DynoConnection): void;
}

/**
 * Opens a TCP connection; injectable so tests can add latency or failures. Pass `onread` on
 * to net.connect; a socket made without it still works, through its 'data' events.
 */
export type ConnectFunction = (host: string, port: number, onread: net.OnReadOpts) => net.Socket;

export const defaultConnect: ConnectFunction = (host, port, onread) =>
  net.connect({ host, port, noDelay: true, onread });

/**
 * Read buffer per dyno connection. Responses through a router are mostly small; larger ones
 * stream in reads of this size (nginx's own proxy buffers are 4–8 KiB). It is held for the
 * connection's life, idle time in the pool included, so it is kept modest.
 */
const READ_BUFFER_BYTES = 16 * 1024;

function sweep(pool: DynoPool): void {
  pool.sweepIdle();
}

export class DynoConnection {
  readonly socket: net.Socket;
  readonly dyno: Dyno;
  readonly key: string;
  owner: DynoListener | null = null;
  connected = false;
  /** In the pool, waiting for the next request. */
  idle = false;
  /** performance.now() when it last went idle. */
  idleSince = 0;
  /** FIN, error or close seen: never reuse. */
  gone = false;
  error: NodeJS.ErrnoException | null = null;
  readonly #pool: DynoPool;
  #readBuffer: Buffer | null = null;

  constructor(pool: DynoPool, dyno: Dyno, key: string, connect: ConnectFunction) {
    this.#pool = pool;
    this.dyno = dyno;
    this.key = key;
    const socket = connect(dyno.host, dyno.port, {
      buffer: this.#nextReadBuffer,
      callback: this.#onRead,
    });
    this.socket = socket;
    socket.on('connect', this.#onConnect);
    socket.on('data', this.#onData);
    socket.on('end', this.#onGone);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    socket.on('drain', this.#onDrain);
  }

  readonly #onConnect = (): void => {
    this.connected = true;
    this.owner?.onDynoConnect(this);
  };

  /** Net asks before every read: the same buffer, unless a write still holds a view of it. */
  readonly #nextReadBuffer = (): Buffer => {
    this.#readBuffer ??= Buffer.allocUnsafe(READ_BUFFER_BYTES);
    return this.#readBuffer;
  };

  /** `buffer` is the one #nextReadBuffer handed out. socket.pause() stops reads by itself. */
  readonly #onRead = (nread: number, buffer: Uint8Array): boolean => {
    this.#onData((buffer as Buffer).subarray(0, nread));
    return true;
  };

  /**
   * A view of the chunk being delivered was just written to `to`. If the write was queued
   * rather than done, the socket holds that view until it drains: read into a new buffer.
   */
  lendIfQueued(to: net.Socket): void {
    if (to.writableLength > 0) this.#readBuffer = null;
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.owner !== null) this.owner.onDynoData(this, chunk);
    else this.destroy(); // bytes on an idle connection: the dyno is not speaking HTTP to us
  };

  readonly #onError = (err: NodeJS.ErrnoException): void => {
    this.error ??= err;
    this.#onGone();
  };

  readonly #onGone = (): void => {
    if (this.gone) return;
    this.gone = true;
    const owner = this.owner;
    if (owner !== null) owner.onDynoGone(this);
    else this.destroy();
  };

  readonly #onClose = (): void => {
    this.#onGone();
    this.#pool.closed(this);
  };

  readonly #onDrain = (): void => {
    this.owner?.onDynoDrain(this);
  };

  /** After an upgrade: flush what was written, then close. */
  endThenDestroy(): void {
    this.owner = null;
    this.idle = false;
    this.gone = true;
    if (this.socket.destroyed) return;
    this.socket.end();
    this.socket.once('finish', this.#destroySocket);
  }

  readonly #destroySocket = (): void => {
    this.socket.destroy();
  };

  destroy(): void {
    this.owner = null;
    this.idle = false;
    // Until 'close' fires it is still in the idle stack: never hand it out again.
    this.gone = true;
    if (!this.socket.destroyed) this.socket.destroy();
  }
}

export interface PoolOptions {
  readonly keepAlive: boolean;
  readonly idleMs: number;
  readonly connect: ConnectFunction;
}

export class DynoPool {
  readonly #options: PoolOptions;
  readonly #idle = new Map<string, DynoConnection[]>();
  readonly #live = new Set<DynoConnection>();
  #onEmpty: (() => void) | null = null;
  /** Fires when the oldest idle connection expires; null while none is armed. */
  #sweepTimer: NodeJS.Timeout | null = null;

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  get openCount(): number {
    return this.#live.size;
  }

  /** Router 2.0: the most recently used idle connection to this dyno, as it is. */
  take(dyno: Dyno, key: string, owner: DynoListener): DynoConnection | null {
    if (!this.#options.keepAlive) return null;
    const stack = this.#idle.get(key);
    if (stack === undefined) return null;
    let conn = stack.pop();
    while (conn !== undefined && (conn.gone || conn.socket.destroyed)) conn = stack.pop();
    if (conn === undefined) return null;
    // A restarted dyno may reuse the port: a connection made to its predecessor is not its own.
    if (conn.dyno.name !== dyno.name) {
      conn.destroy();
      return null;
    }
    conn.idle = false;
    conn.owner = owner;
    return conn;
  }

  open(dyno: Dyno, key: string, owner: DynoListener): DynoConnection {
    const conn = new DynoConnection(this, dyno, key, this.#options.connect);
    conn.owner = owner;
    this.#live.add(conn);
    return conn;
  }

  /** A request finished cleanly on this connection: keep it (Router 2.0) or close it. */
  release(conn: DynoConnection): void {
    conn.owner = null;
    if (!this.#options.keepAlive || conn.gone || conn.socket.destroyed) {
      conn.destroy();
      return;
    }
    conn.idle = true;
    conn.idleSince = performance.now();
    if (this.#sweepTimer === null) this.#armSweep(this.#options.idleMs);
    let stack = this.#idle.get(conn.key);
    if (stack === undefined) {
      stack = [];
      this.#idle.set(conn.key, stack);
    }
    stack.push(conn);
  }

  closed(conn: DynoConnection): void {
    this.#live.delete(conn);
    const stack = this.#idle.get(conn.key);
    if (stack !== undefined) {
      const i = stack.indexOf(conn);
      if (i >= 0) stack.splice(i, 1);
      if (stack.length === 0) this.#idle.delete(conn.key);
    }
    if (this.#live.size === 0 && this.#onEmpty !== null) {
      const done = this.#onEmpty;
      this.#onEmpty = null;
      done();
    }
  }

  #armSweep(ms: number): void {
    this.#sweepTimer = setTimeout(sweep, ms, this);
    this.#sweepTimer.unref();
  }

  /** Close the connections idle for `idleMs`; re-arm for the next one to expire. */
  sweepIdle(): void {
    this.#sweepTimer = null;
    const now = performance.now();
    const idleMs = this.#options.idleMs;
    let next = Number.POSITIVE_INFINITY;
    for (const conn of this.#live) {
      if (!conn.idle) continue;
      const expires = conn.idleSince + idleMs;
      if (expires <= now + 1) conn.destroy();
      else if (expires < next) next = expires;
    }
    if (next !== Number.POSITIVE_INFINITY) this.#armSweep(Math.max(1, Math.ceil(next - now)));
  }

  /** Destroy every connection; resolves once all their sockets have closed. */
  closeAll(): Promise<void> {
    if (this.#sweepTimer !== null) clearTimeout(this.#sweepTimer);
    this.#sweepTimer = null;
    for (const conn of this.#live) conn.destroy();
    if (this.#live.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#onEmpty = resolve;
    });
  }
}
