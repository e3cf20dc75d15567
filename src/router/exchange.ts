/**
 * One proxied request, from its parsed head to its router line: its state, and the events
 * that move it on. What each event does lives with its part of the journey:
 * exchange-routing.ts (dyno choice, connect, retries), request-relay.ts (client → dyno),
 * response-relay.ts (dyno → client, upgrade tunnel), exchange-end.ts (the one record),
 * exchange-timer.ts (the request's one timer and the code it stands for).
 *
 * Phases and their allowed order are data (phases.ts); every phase change goes through
 * nextPhase. Socket events reach the request through its client connection and its dyno
 * connection, which hold a reference to it, and the parts are plain functions of this object,
 * so no closure is made per request. The fields are the parts' shared state, not an API.
 */

import { performance } from 'node:perf_hooks';
import { requestIdFrom } from '../core/request-id.js';
import { ChunkedValidator } from '../http/chunked.js';
import type { RequestHead } from '../http/request-head.js';
import type { ResponseParser } from '../http/response-parser.js';
import type { ClientConnection } from './client-connection.js';
import type { RouterContext } from './context.js';
import type { DynoConnection, DynoListener } from './dyno-pool.js';
import type { Dyno } from './dynos.js';
import { completeExchange, failExchange, finishUpgrade } from './exchange-end.js';
import {
  connectFailed,
  dynoConnected,
  rerouteQueued,
  retriesAfterPoolRace,
  routeExchange,
} from './exchange-routing.js';
import { refreshIdle, type TimerCode } from './exchange-timer.js';
import { forwardedFor, requestIdHeader } from './forward-head.js';
import { isTerminal, type Phase } from './phases.js';
import { openRequest, relayRequestBody } from './request-relay.js';
import { relayResponse, tunnelToClient, tunnelToDyno } from './response-relay.js';

/** The dyno reset the connection (or refused our write): it did not read the request. */
function isReset(conn: DynoConnection): boolean {
  const code = conn.error?.code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

export class Exchange implements DynoListener {
  phase: Phase = 'head';
  readonly ctx: RouterContext;
  readonly client: ClientConnection;
  readonly head: RequestHead;
  readonly requestId: string;
  readonly fwd: string;
  readonly acceptedAt: number;
  readonly acceptedEpochMs: number;

  // Routing and connecting.
  dyno: Dyno | null = null;
  conn: DynoConnection | null = null;
  /** Dynos whose connect failed, for the retry's pick (made only on a failure). */
  tried: string[] | null = null;
  attemptLimit = 0;
  connectStartedAt = 0;
  connectMs: number | null = null;
  /** The connection came from the Router 2.0 pool (the keep-alive race applies). */
  pooled = false;
  /** Already sent once more after losing the keep-alive race. */
  retried = false;
  /** When the head went to the dyno (`service=` starts here); -1 until then. */
  proxyStartedAt = -1;

  // Request body.
  bodyRemaining = 0;
  readonly chunked: ChunkedValidator | null = null;
  requestDone: boolean;
  /** Body bytes that arrived before a dyno connection, written after the head. */
  early: Buffer[] | null = null;
  earlyBytes = 0;

  // Response.
  parser: ResponseParser | null = null;
  headRelayed = false;
  status: number | null = null;
  bytes = 0;
  clientKeepAlive = false;
  /** Legacy, HTTP/1.0 client, chunked response: the body is de-chunked (response-relay.ts). */
  decoder: ChunkedValidator | null = null;
  /** The dyno connection may carry another request after this one. */
  reusable = true;

  /** What the client connection's request timer means right now (null: not running). */
  timerCode: TimerCode | null = null;

  constructor(ctx: RouterContext, client: ClientConnection, head: RequestHead) {
    this.ctx = ctx;
    this.client = client;
    this.head = head;
    this.acceptedAt = performance.now();
    this.acceptedEpochMs = Date.now();
    this.requestId = requestIdFrom(requestIdHeader(head), ctx.flavor === 'legacy');
    this.fwd = forwardedFor(head, client.ip);
    const framing = head.framing;
    if (framing.kind === 'length') this.bodyRemaining = framing.length;
    else if (framing.kind === 'chunked') this.chunked = new ChunkedValidator({ rewrite: true });
    this.requestDone = framing.kind === 'none';
    ctx.inFlight++; // released by the one record (exchange-end.ts)
  }

  /** Begin with whatever followed the head in the client's bytes. */
  start(rest: Buffer | null): void {
    openRequest(this, rest);
    if (isTerminal(this.phase)) return;
    routeExchange(this);
  }

  /** The dyno table changed while this request waits for a starting dyno. */
  onTableChange(): void {
    rerouteQueued(this);
  }

  // ---- socket events (DynoListener, and the client connection's) --------------------------

  onDynoConnect(conn: DynoConnection): void {
    dynoConnected(this, conn);
  }

  /** Bytes from the client while this request is live. */
  onClientData(chunk: Buffer): void {
    if (this.phase === 'upgraded') tunnelToDyno(this, chunk);
    else relayRequestBody(this, chunk);
  }

  onDynoData(conn: DynoConnection, chunk: Buffer): void {
    if (conn !== this.conn) return;
    if (this.phase === 'upgraded') tunnelToClient(this, conn, chunk);
    else relayResponse(this, conn, chunk);
  }

  /** The dyno can take more: let the client send again. */
  onDynoDrain(conn: DynoConnection): void {
    if (conn !== this.conn) return;
    refreshIdle(this);
    this.client.resume();
  }

  /** The client can take more: let the dyno send again. */
  onClientDrain(): void {
    const conn = this.conn;
    if (conn !== null && !isTerminal(this.phase)) {
      refreshIdle(this);
      conn.socket.resume();
    }
  }

  /** The dyno's side ended: FIN, reset, or close. What it means depends on the phase. */
  onDynoGone(conn: DynoConnection): void {
    if (conn !== this.conn) return;
    this.reusable = false;
    switch (this.phase) {
      case 'connecting': {
        const code = conn.error?.code;
        connectFailed(this, code === 'ETIMEDOUT' || code === 'ENETUNREACH' ? 'H19' : 'H21');
        return;
      }
      case 'sending':
      case 'awaiting':
        // Zero response bytes: H13, unless a reused pooled connection was reset, the
        // signature of the keep-alive race (the app had closed it and never read the
        // request): then a retry or H18, as Heroku logs it (exchange-routing.ts). A clean
        // close after the app read the request (a crash, an exit mid-request) stays H13.
        if (this.pooled && isReset(conn)) {
          if (retriesAfterPoolRace(this)) return;
          failExchange(this, 'H18', null, null);
        } else failExchange(this, 'H13', null, null);
        return;
      case 'streaming':
        if ((this.parser as ResponseParser).finish() && this.headRelayed) completeExchange(this);
        else failExchange(this, 'H18', null, null);
        return;
      case 'upgraded':
        finishUpgrade(this);
        return;
      default:
        return;
    }
  }

  /** The client closed (FIN, reset or close) while this request was live. */
  onClientGone(): void {
    if (isTerminal(this.phase)) return;
    if (this.phase === 'upgraded') finishUpgrade(this);
    else failExchange(this, 'H27', null, null);
  }

  /** The request's timer expired: the code it stood for, if the phase still calls for it. */
  onTimer(): void {
    const code = this.timerCode;
    this.timerCode = null;
    if (code === null || isTerminal(this.phase)) return;
    if (code === 'H19') connectFailed(this, 'H19');
    else if (code === 'H28' && this.phase !== 'sending') return;
    else if (code === 'H28' && (this.conn?.socket.writableLength ?? 0) > 0) {
      // The client is not idle: the router paused it because the dyno stopped reading the
      // body. The idle side is the dyno (H15, 503), not the client (H28 would blame it).
      failExchange(this, 'H15', null, null);
    } else failExchange(this, code, null, null);
  }

  /** Router shutdown (H24) or any other forced end. */
  forceClose(): void {
    failExchange(this, 'H24', null, null);
  }
}
