/**
 * One client TCP connection: reads request heads with parseRequestHead, answers what the
 * router refuses before the app stage (400, 405, 414, 505, and 408 when the head does not
 * arrive within `clientHead`; no router line, nothing forwarded), and runs its requests one
 * at a time, keeping pipelined bytes until the current request is answered.
 *
 * The socket is half-open capable so the router decides what a client FIN means: during a
 * request it is H27 (Heroku does not support half-closed clients), between requests it ends
 * the connection.
 */

import type net from 'node:net';
import { MAX_EMPTY_LINES, parseRequestHead, REQUEST_LIMITS } from '../http/request-head.js';
import type { RouterContext } from './context.js';
import { Deadline } from './deadline.js';
import { rejectionResponse } from './error-page.js';
import { Exchange } from './exchange.js';

/** Pipelined bytes kept while a request is in flight before the client is paused. */
const MAX_STASH = 64 * 1024;
/** How long a refused client gets to read the answer and close before it is cut off. */
const LINGER_MS = 2_000;

function onLinger(client: ClientConnection): void {
  client.abort();
}

export class ClientConnection {
  readonly socket: net.Socket;
  readonly ip: string;
  readonly #ctx: RouterContext;
  #exchange: Exchange | null = null;
  /** A head still arriving (with #parts); null when none is. */
  #buffered: Buffer | null = null;
  /**
   * Bytes that arrived behind the current request (pipelining), kept as they came and joined
   * once when it is answered: no copy of everything so far per read, and no copy per
   * pipelined request of the requests behind it.
   */
  #stashed: Buffer[] = [];
  #stashedBytes = 0;
  /** `clientHead`: armed while waiting for a head, cleared while a request is live. */
  readonly #headTimer = new Deadline(() => this.onHeadTimeout());
  /** The current request's timer (H12/H15/H19/H20/H28), reused by every request. */
  readonly requestTimer = new Deadline(() => this.#exchange?.onTimer());
  /**
   * Chunks of a head still arriving that cannot have completed it (no blank line yet), kept
   * apart so a head sent a few bytes at a time is not copied and re-parsed on every chunk.
   */
  #parts: Buffer[] = [];
  /** Head bytes held, counted in the router-wide budget (ctx.buffered) until released. */
  #heldBytes = 0;
  /** Empty lines consumed before the request line, and a CR whose LF has not come yet. */
  #emptyLines = 0;
  #pendingCr = false;
  /** Bytes since the last LF of the head so far (the line being received). */
  #lineBytes = 0;
  /** The last and second-last byte held of the head so far (-1: none). */
  #tail1 = -1;
  #tail2 = -1;
  #lingerTimer: NodeJS.Timeout | null = null;
  #closing = false;
  #pausedByRouter = false;

  constructor(ctx: RouterContext, socket: net.Socket) {
    this.#ctx = ctx;
    this.socket = socket;
    const address = socket.remoteAddress ?? '';
    this.ip = address.startsWith('::ffff:') ? address.slice(7) : address;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    socket.on('drain', this.#onDrain);
    this.#headTimer.set(ctx.timers.clientHead);
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#closing) return; // a refused client's remaining bytes are read and dropped
    if (this.#exchange !== null) this.#exchange.onClientData(chunk);
    else this.#readHead(chunk);
  };

  readonly #onEnd = (): void => {
    if (this.#exchange !== null) this.#exchange.onClientGone();
    // While closing, the socket destroys itself once our side is flushed (autoDestroy).
    else if (!this.#closing) this.abort();
  };

  readonly #onError = (): void => {
    // 'close' follows; the request (if any) is classified there.
  };

  readonly #onClose = (): void => {
    this.#headTimer.dispose();
    this.requestTimer.dispose();
    if (this.#lingerTimer !== null) clearTimeout(this.#lingerTimer);
    if (this.#exchange !== null) this.#exchange.onClientGone();
    this.#exchange = null;
    this.#release();
    const ctx = this.#ctx;
    ctx.clients.delete(this);
    if (ctx.clients.size === 0 && ctx.onClientsEmpty !== null) ctx.onClientsEmpty();
  };

  readonly #onDrain = (): void => {
    this.#exchange?.onClientDrain();
  };

  #readHead(chunk: Buffer): void {
    let data = chunk;
    if (this.#buffered === null) {
      // Empty lines before a request line are consumed as they arrive, never held: a head of
      // nothing but CRLFs costs a look at a few bytes, however it is split.
      const start = this.#skipEmpty(data);
      if (start < 0) return;
      if (start > 0) data = data.subarray(start);
      if (data.length === 0) return;
    } else if (this.#cannotEndHead(data)) {
      // No blank line yet: hold the chunk without copying or parsing anything.
      if (!this.#hold(data)) return;
      this.#remember(data);
      if (this.#lineBytes <= REQUEST_LIMITS.headerLine) return;
      // Past a per-line limit: the parser gives the answer (414/400).
      data = Buffer.alloc(0);
    }
    const buf =
      this.#buffered === null ? data : Buffer.concat([this.#buffered, ...this.#parts, data]);
    this.#release();
    if (buf.length === 0) return;
    const result = parseRequestHead(buf);
    if (result.kind === 'incomplete') {
      this.#buffered = Buffer.alloc(0);
      this.#lineBytes = 0;
      this.#tail1 = -1;
      this.#tail2 = -1;
      if (this.#hold(buf)) {
        this.#lineBytes = buf.length - buf.lastIndexOf(10) - 1;
        this.#remember(buf);
      }
      return;
    }
    if (result.kind === 'reject') {
      this.#refuse(result.status);
      return;
    }
    const head = result.head;
    this.#headTimer.clear();
    const exchange = new Exchange(this.#ctx, this, head);
    this.#exchange = exchange;
    exchange.start(buf.length > head.length ? buf.subarray(head.length) : null);
  }

  /**
   * Consume the empty lines before a request line (at most MAX_EMPTY_LINES CRLFs, as
   * cowboyku), across chunks. Returns where the request line starts in `chunk`, or -1 when
   * the chunk was all empty lines or the connection was refused.
   */
  #skipEmpty(chunk: Buffer): number {
    let i = 0;
    if (this.#pendingCr) {
      if (chunk[0] !== 10) {
        this.#refuse(400);
        return -1;
      }
      this.#pendingCr = false;
      i = 1;
    }
    while (i < chunk.length) {
      const c = chunk[i];
      if (c !== 13 && c !== 10) {
        this.#emptyLines = 0;
        return i;
      }
      if (c === 10 || ++this.#emptyLines > MAX_EMPTY_LINES) {
        this.#refuse(400);
        return -1;
      }
      if (i + 1 === chunk.length) {
        this.#pendingCr = true;
        return -1;
      }
      if (chunk[i + 1] !== 10) {
        this.#refuse(400);
        return -1;
      }
      i += 2;
    }
    return -1;
  }

  /**
   * Keep a chunk of a head still arriving, within the per-connection and router-wide bounds;
   * past either the request is refused (false).
   */
  #hold(chunk: Buffer): boolean {
    const ctx = this.#ctx;
    const held = this.#heldBytes + chunk.length;
    if (held > ctx.limits.maxHeadBytes) {
      this.#refuse(431);
      return false;
    }
    if (ctx.buffered.bytes + chunk.length > ctx.limits.maxBufferedBytes) {
      // Every connection together holds the router's budget: this one is refused, the
      // requests already read go on.
      this.#refuse(503);
      return false;
    }
    this.#parts.push(chunk);
    this.#heldBytes = held;
    ctx.buffered.bytes += chunk.length;
    return true;
  }

  /** Forget the head bytes held (parsed, or the connection ends), and any pipelined ones. */
  #release(): void {
    if (this.#stashedBytes > 0) this.takeStash();
    this.#ctx.buffered.bytes -= this.#heldBytes;
    this.#heldBytes = 0;
    this.#buffered = null;
    this.#parts = [];
  }

  /**
   * Whether `chunk` certainly does not complete the head: it has no LF that ends a blank line
   * (LF LF or LF CR LF, looking back into the last two bytes already held, whichever chunks
   * they came in). Updates the current line's length as a side effect.
   */
  #cannotEndHead(chunk: Buffer): boolean {
    let lf = chunk.indexOf(10);
    if (lf < 0) {
      this.#lineBytes += chunk.length;
      return true;
    }
    while (lf >= 0) {
      const prev = lf >= 1 ? chunk[lf - 1] : this.#tail1;
      const prev2 = lf >= 2 ? chunk[lf - 2] : lf === 1 ? this.#tail1 : this.#tail2;
      if (prev === 10 || (prev === 13 && prev2 === 10)) return false;
      lf = chunk.indexOf(10, lf + 1);
    }
    this.#lineBytes = chunk.length - chunk.lastIndexOf(10) - 1;
    return true;
  }

  #remember(bytes: Buffer): void {
    if (bytes.length >= 2) {
      this.#tail2 = bytes[bytes.length - 2] as number;
      this.#tail1 = bytes[bytes.length - 1] as number;
    } else if (bytes.length === 1) {
      this.#tail2 = this.#tail1;
      this.#tail1 = bytes[0] as number;
    }
  }

  /** Answer a request the router will not forward, then close. */
  #refuse(status: number): void {
    this.write(rejectionResponse(status));
    this.#closeAfterFlush();
  }

  onHeadTimeout(): void {
    if (this.#exchange !== null || this.#closing) return; // re-armed when the request ends
    if (this.#buffered !== null || this.#emptyLines > 0 || this.#pendingCr) this.#refuse(408);
    else this.abort(); // an idle keep-alive connection
  }

  // ---- used by the request ----------------------------------------------------------------

  write(data: string | Buffer): boolean {
    if (this.socket.destroyed) return false;
    return typeof data === 'string' ? this.socket.write(data, 'latin1') : this.socket.write(data);
  }

  /**
   * Keep bytes that follow the current request (pipelining). They count in the router-wide
   * budget with the heads held; past it, or past this connection's share, the client is
   * paused (not refused: a pipeline is valid) until its request is answered.
   */
  stash(chunk: Buffer): void {
    // A small view is copied so it does not keep a whole read buffer alive.
    this.#stashed.push(chunk.length < 4096 ? Buffer.from(chunk) : chunk);
    this.#stashedBytes += chunk.length;
    const ctx = this.#ctx;
    ctx.buffered.bytes += chunk.length;
    if (this.#stashedBytes > MAX_STASH || ctx.buffered.bytes > ctx.limits.maxBufferedBytes)
      this.pause();
  }

  /** The stashed bytes as one Buffer (null: none), no longer counted as held. */
  takeStash(): Buffer | null {
    const parts = this.#stashed;
    if (parts.length === 0) return null;
    const bytes = this.#stashedBytes;
    this.#ctx.buffered.bytes -= bytes;
    this.#stashed = [];
    this.#stashedBytes = 0;
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, bytes);
  }

  pause(): void {
    if (!this.#pausedByRouter) {
      this.#pausedByRouter = true;
      this.socket.pause();
    }
  }

  resume(): void {
    if (this.#pausedByRouter) {
      this.#pausedByRouter = false;
      this.socket.resume();
    }
  }

  /** The current request ended: read the next one, or close after what was written. */
  finished(keepAlive: boolean): void {
    this.#exchange = null;
    if (!keepAlive || this.#ctx.closing) {
      this.#closeAfterFlush();
      return;
    }
    this.resume();
    this.#headTimer.set(this.#ctx.timers.clientHead);
    const next = this.takeStash();
    if (next !== null) this.#readHead(next);
  }

  /** Cut the connection now (the client sees a reset or a truncated response). */
  abort(): void {
    this.#closing = true;
    this.#exchange = null;
    if (!this.socket.destroyed) this.socket.destroy();
  }

  /**
   * Cut the connection after what was already written (a relayed head and part of a body):
   * the client sees a truncated response, not a reset that could erase it.
   */
  cut(): void {
    if (this.socket.destroyed || this.socket.writableLength === 0) {
      this.abort();
      return;
    }
    this.#closing = true;
    this.#exchange = null;
    this.socket.end();
    this.#lingerTimer = setTimeout(onLinger, LINGER_MS, this);
  }

  /** Router shutdown: an in-flight request ends as H24; an idle connection just closes. */
  forceClose(): void {
    if (this.#exchange !== null) this.#exchange.forceClose();
    else this.abort();
  }

  /**
   * Send FIN after what was written, keep reading (and dropping) until the client closes, and
   * cut it off after a short linger: closing with unread input would make the kernel send a
   * reset that can erase the answer on its way to the client.
   */
  #closeAfterFlush(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#release();
    this.resume();
    if (this.socket.destroyed) return;
    this.socket.end();
    this.#lingerTimer = setTimeout(onLinger, LINGER_MS, this);
  }
}
