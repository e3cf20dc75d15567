/**
 * One proxied request, from its parsed head to its router line: routing, connecting (with
 * retries over other dynos), relaying the request body with its framing enforced, reading the
 * response with ResponseParser, relaying it with a rewritten head, and classifying every way
 * it can end into exactly one record (spec §1).
 *
 * Phases and their allowed order are data (phases.ts). One timer per request, whose meaning
 * follows the phase: H20 (queued), H19 (connecting), H28 (sending), H12 (awaiting), H15
 * (streaming, upgraded); it is the client connection's reusable Deadline (deadline.ts), so a
 * request or a relayed chunk moves a number instead of creating or re-inserting a timer. Socket events reach the request through its client connection and
 * its dyno connection, which hold a reference to it, so no closure is made per request.
 */

import { ROUTER_CODES, type RouterCodeName, statusFor } from '../core/codes.js';
import { requestIdFrom } from '../core/request-id.js';
import type { RouterRecord } from '../core/router-line.js';
import { ChunkedValidator } from '../http/chunked.js';
import type { RequestHead } from '../http/request-head.js';
import { type ResponseFault, ResponseParser } from '../http/response-parser.js';
import { dynoKey } from './balancer.js';
import type { ClientConnection } from './client-connection.js';
import { emitRecord, type RouterContext } from './context.js';
import type { DynoConnection, DynoListener } from './dyno-pool.js';
import type { Dyno } from './dynos.js';
import { CONTINUE_RESPONSE, ERROR_PAGE, errorPageHead } from './error-page.js';
import {
  buildInterimHead,
  buildRequestHead,
  buildResponseHead,
  forwardedFor,
  requestIdHeader,
} from './forward-head.js';
import { isTerminal, nextPhase, type Phase } from './phases.js';

type TimerCode = 'H12' | 'H15' | 'H19' | 'H20' | 'H28';

/** Body bytes a client may send before a dyno is connected, before it is paused. */
const MAX_EARLY_BODY = 64 * 1024;

const keys = new WeakMap<Dyno, string>();
function keyOf(dyno: Dyno): string {
  let key = keys.get(dyno);
  if (key === undefined) {
    key = dynoKey(dyno);
    keys.set(dyno, key);
  }
  return key;
}

/** Past this many body bytes the head and body go out as a writev instead of one copy. */
const JOIN_LIMIT = 16 * 1024;

/**
 * The relayed head and the body bytes that arrived with it leave in one syscall. A small body
 * is copied behind the head into one Buffer (from Node's shared pool): a single write skips
 * the stream's writev path, which builds a chunk array and a write request per cork/uncork.
 */
function writeHead(
  client: ClientConnection,
  head: string,
  chunk: Buffer,
  start: number,
  stop: number,
): boolean {
  const body = stop - start;
  if (body <= 0) return client.write(head);
  if (body <= JOIN_LIMIT) {
    const out = Buffer.allocUnsafe(head.length + body);
    out.write(head, 0, 'latin1');
    chunk.copy(out, head.length, start, stop);
    return client.write(out);
  }
  client.socket.cork();
  client.write(head);
  const writable = client.write(chunk.subarray(start, stop));
  client.socket.uncork();
  return writable;
}

export class Exchange implements DynoListener {
  phase: Phase = 'head';
  readonly #ctx: RouterContext;
  readonly #client: ClientConnection;
  readonly head: RequestHead;
  readonly requestId: string;
  readonly fwd: string;
  readonly #acceptedAt: number;
  readonly #acceptedEpochMs: number;

  #dyno: Dyno | null = null;
  #conn: DynoConnection | null = null;
  #tried: string[] | null = null;
  #attemptLimit = 0;
  #connectStartedAt = 0;
  #connectMs: number | null = null;
  #proxyStartedAt = -1;

  #bodyRemaining = 0;
  #chunked: ChunkedValidator | null = null;
  #requestDone: boolean;
  #early: Buffer[] | null = null;
  #earlyBytes = 0;

  #parser: ResponseParser | null = null;
  #headRelayed = false;
  #status: number | null = null;
  #bytes = 0;
  #clientKeepAlive = false;
  /** The dyno connection may carry another request after this one. */
  #reusable = true;

  /** What the client connection's request timer means right now (null: not running). */
  #timerCode: TimerCode | null = null;

  constructor(ctx: RouterContext, client: ClientConnection, head: RequestHead) {
    this.#ctx = ctx;
    this.#client = client;
    this.head = head;
    this.#acceptedAt = performance.now();
    this.#acceptedEpochMs = Date.now();
    this.requestId = requestIdFrom(requestIdHeader(head));
    this.fwd = forwardedFor(head, client.ip);
    const framing = head.framing;
    if (framing.kind === 'length') this.#bodyRemaining = framing.length;
    else if (framing.kind === 'chunked') this.#chunked = new ChunkedValidator();
    this.#requestDone = framing.kind === 'none';
  }

  /** Begin with whatever followed the head in the client's bytes. */
  start(rest: Buffer | null): void {
    if (this.head.h26 !== null) {
      this.fail('H26', this.head.h26);
      return;
    }
    // RFC 9110 §10.1.1: never send 100 (Continue) to an HTTP/1.0 client.
    if (this.head.expectContinue && !this.#requestDone && this.head.version === '1.1')
      this.#client.write(CONTINUE_RESPONSE);
    if (rest !== null) this.onClientData(rest);
    if (isTerminal(this.phase)) return;
    this.phase = nextPhase(this.phase, 'routing');
    this.#route();
  }

  // ---- routing and connecting -------------------------------------------------------------

  #route(): void {
    const pick = this.#ctx.balancer.pick(null);
    if (typeof pick !== 'string') {
      this.#attemptLimit = this.#ctx.balancer.attemptLimit();
      this.#connect(pick);
    } else if (pick === 'queue') {
      this.phase = nextPhase(this.phase, 'queued');
      this.#ctx.queued.add(this);
      this.#setTimer('H20', this.#ctx.timers.bootQueue);
    } else {
      this.fail(pick);
    }
  }

  /** The dyno table changed while this request waits for a starting dyno. */
  onTableChange(): void {
    if (this.phase !== 'queued') return;
    const pick = this.#ctx.balancer.pick(null);
    if (pick === 'queue') return;
    this.#ctx.queued.delete(this);
    this.#clearTimer();
    if (typeof pick === 'string') {
      this.fail(pick);
      return;
    }
    this.phase = nextPhase(this.phase, 'routing');
    this.#attemptLimit = this.#ctx.balancer.attemptLimit();
    this.#connect(pick);
  }

  #connect(dyno: Dyno): void {
    this.phase = nextPhase(this.phase, 'connecting');
    if (this.#dyno === null) this.#connectStartedAt = performance.now();
    this.#dyno = dyno;
    const key = keyOf(dyno);
    const pooled = this.#ctx.pool.take(dyno, key, this);
    if (pooled !== null) {
      this.#conn = pooled;
      this.#connected();
      return;
    }
    this.#conn = this.#ctx.pool.open(dyno, key, this);
    this.#setTimer('H19', this.#ctx.timers.connect);
  }

  #connectFailed(code: 'H19' | 'H21'): void {
    this.#clearTimer();
    const dyno = this.#dyno as Dyno;
    this.#conn?.destroy();
    this.#conn = null;
    this.#ctx.balancer.quarantine(dyno);
    this.#tried ??= [];
    this.#tried.push(dyno.name);
    if (this.#tried.length < this.#attemptLimit && !this.#ctx.closing) {
      const next = this.#ctx.balancer.pick(this.#tried);
      if (typeof next !== 'string') {
        this.#connect(next);
        return;
      }
    }
    this.#connectMs = performance.now() - this.#connectStartedAt;
    this.fail(code);
  }

  onDynoConnect(conn: DynoConnection): void {
    if (conn !== this.#conn || this.phase !== 'connecting') return;
    this.#clearTimer();
    this.#connected();
  }

  #connected(): void {
    const conn = this.#conn as DynoConnection;
    const now = performance.now();
    this.#connectMs = now - this.#connectStartedAt;
    this.phase = nextPhase(this.phase, 'sending');
    this.#proxyStartedAt = now;
    const ctx = this.#ctx;
    const text = buildRequestHead(this.head, {
      requestId: this.requestId,
      fwd: this.fwd,
      via: ctx.via,
      port: ctx.port,
      requestStartMs: this.#acceptedEpochMs,
      connectMs: Math.round(this.#connectMs),
      totalRouteMs: Math.round(now - this.#acceptedAt),
      keepAlive: ctx.flavor === '2',
    });
    const socket = conn.socket;
    if (this.#early === null) {
      socket.write(text, 'latin1');
    } else {
      socket.cork();
      socket.write(text, 'latin1');
      for (const chunk of this.#early) socket.write(chunk);
      socket.uncork();
      this.#early = null;
      this.#earlyBytes = 0;
      this.#client.resume();
    }
    if (this.#requestDone) this.#requestWritten();
    else this.#setTimer('H28', ctx.timers.idle);
  }

  // ---- request body -----------------------------------------------------------------------

  /** Bytes from the client while this request is live. */
  onClientData(chunk: Buffer): void {
    const phase = this.phase;
    if (phase === 'upgraded') {
      this.#refreshIdle();
      if (!(this.#conn as DynoConnection).socket.write(chunk)) this.#client.pause();
      return;
    }
    if (isTerminal(phase)) return;
    if (this.#requestDone) {
      // Pipelined requests wait until this one is answered.
      this.#client.stash(chunk);
      if (this.#timerCode === 'H15') this.#refreshIdle();
      return;
    }
    let take = chunk.length;
    if (this.#chunked !== null) {
      const r = this.#chunked.push(chunk);
      if (r.state === 'error') {
        this.fail('H26', 'bad chunk');
        return;
      }
      if (r.state === 'done') {
        take = r.end;
        this.#requestDone = true;
      }
    } else {
      if (take >= this.#bodyRemaining) {
        take = this.#bodyRemaining;
        this.#requestDone = true;
      }
      this.#bodyRemaining -= take;
    }
    const body = take === chunk.length ? chunk : chunk.subarray(0, take);
    if (take < chunk.length) this.#client.stash(chunk.subarray(take));
    if (phase === 'sending' || phase === 'streaming') {
      this.#refreshIdle();
      if (take > 0 && !(this.#conn as DynoConnection).socket.write(body)) this.#client.pause();
      if (this.#requestDone) this.#requestWritten();
    } else if (take > 0) {
      if (this.#early === null) this.#early = [body];
      else this.#early.push(body);
      this.#earlyBytes += take;
      if (this.#earlyBytes > MAX_EARLY_BODY) this.#client.pause();
    }
  }

  #requestWritten(): void {
    if (this.phase !== 'sending') return;
    this.phase = nextPhase(this.phase, 'awaiting');
    this.#setTimer('H12', this.#ctx.timers.firstByte);
  }

  onDynoDrain(conn: DynoConnection): void {
    if (conn !== this.#conn) return;
    this.#refreshIdle();
    this.#client.resume();
  }

  /** The client can take more: let the dyno send again. */
  onClientDrain(): void {
    const conn = this.#conn;
    if (conn !== null && !isTerminal(this.phase)) {
      this.#refreshIdle();
      conn.socket.resume();
    }
  }

  // ---- response ---------------------------------------------------------------------------

  onDynoData(conn: DynoConnection, chunk: Buffer): void {
    if (conn !== this.#conn) return;
    const phase = this.phase;
    if (phase === 'upgraded') {
      this.#refreshIdle();
      this.#bytes += chunk.length;
      if (!this.#client.write(chunk)) conn.socket.pause();
      return;
    }
    if (phase === 'sending' || phase === 'awaiting') {
      this.phase = nextPhase(phase, 'streaming');
      this.#parser = new ResponseParser(this.head.method);
    } else if (phase !== 'streaming') {
      return;
    }
    const parser = this.#parser as ResponseParser;
    const r = parser.push(chunk);
    if (r.fault !== null) {
      this.#responseFault(r.fault);
      return;
    }
    if (!this.#headRelayed && r.interim.length > 0 && this.head.version === '1.1') {
      for (const interim of r.interim) {
        const text = buildInterimHead(interim, this.#ctx.via);
        this.#bytes += text.length;
        this.#client.write(text);
      }
    }
    let writable = true;
    let start = 0;
    if (r.head !== null) {
      if (parser.framing === 'upgrade' && this.head.upgrade === null) {
        // A 101 nobody asked for would turn the connection into an unlogged tunnel to the dyno.
        this.#responseFault({
          code: 'H17',
          desc: null,
          detail: '101 Switching Protocols to a request that asked for no upgrade',
        });
        return;
      }
      const ctx = this.#ctx;
      this.#status = r.head.status;
      this.#clientKeepAlive =
        this.head.keepAlive && this.#requestDone && parser.framing !== 'close' && !ctx.closing;
      const text = buildResponseHead(r.head, {
        via: ctx.via,
        server: ctx.server,
        clientKeepAlive: this.#clientKeepAlive,
        clientVersion: this.head.version,
        framing: parser.framing,
      });
      this.#headRelayed = true;
      this.#bytes += text.length;
      start = r.bodyStart;
      if (parser.framing === 'upgrade') {
        this.#client.write(text);
        this.#upgrade(chunk, start);
        return;
      }
      // Head and the body bytes that came with it leave in one write (one syscall).
      const stop = r.end ?? chunk.length;
      this.#bytes += stop - start;
      writable = writeHead(this.#client, text, chunk, start, stop);
    } else if (!this.#headRelayed) {
      this.#ensureIdleTimer();
      return;
    } else {
      const stop = r.end ?? chunk.length;
      if (stop > start) {
        this.#bytes += stop - start;
        writable = this.#client.write(
          start === 0 && stop === chunk.length ? chunk : chunk.subarray(start, stop),
        );
      }
    }
    if (r.end !== null) {
      if (r.end < chunk.length) this.#reusable = false; // bytes past the response: not HTTP
      this.#complete();
      return;
    }
    if (!writable) conn.socket.pause();
    this.#ensureIdleTimer();
  }

  #upgrade(chunk: Buffer, bodyStart: number): void {
    this.phase = nextPhase(this.phase, 'upgraded');
    this.#reusable = false;
    const conn = this.#conn as DynoConnection;
    if (bodyStart < chunk.length) {
      this.#bytes += chunk.length - bodyStart;
      this.#client.write(chunk.subarray(bodyStart));
    }
    const early = this.#client.takeStash();
    if (early !== null) conn.socket.write(early);
    this.#setTimer('H15', this.#ctx.timers.idle);
  }

  #responseFault(fault: ResponseFault): void {
    this.#reusable = false;
    this.fail(fault.code, null, fault.desc);
  }

  /** The dyno's side ended: FIN, reset, or close. */
  onDynoGone(conn: DynoConnection): void {
    if (conn !== this.#conn) return;
    this.#reusable = false;
    switch (this.phase) {
      case 'connecting': {
        const code = conn.error?.code;
        this.#connectFailed(code === 'ETIMEDOUT' || code === 'ENETUNREACH' ? 'H19' : 'H21');
        return;
      }
      case 'sending':
      case 'awaiting':
        this.fail('H13');
        return;
      case 'streaming':
        if ((this.#parser as ResponseParser).finish() && this.#headRelayed) this.#complete();
        else this.fail('H18');
        return;
      case 'upgraded':
        this.#finishUpgrade();
        return;
      default:
        return;
    }
  }

  /** The client closed (FIN, reset or close) while this request was live. */
  onClientGone(): void {
    if (isTerminal(this.phase)) return;
    if (this.phase === 'upgraded') this.#finishUpgrade();
    else this.fail('H27');
  }

  #complete(): void {
    this.#clearTimer();
    this.phase = nextPhase(this.phase, 'done');
    const conn = this.#conn;
    this.#conn = null;
    if (conn !== null) {
      const parser = this.#parser as ResponseParser;
      if (this.#reusable && this.#requestDone && parser.keepAlive && !this.#ctx.closing) {
        conn.socket.resume();
        this.#ctx.pool.release(conn);
      } else {
        conn.destroy();
      }
    }
    this.#emit('info', null, null, null, this.#status, this.#bytes);
    this.#client.finished(this.#clientKeepAlive && this.#requestDone);
  }

  #finishUpgrade(): void {
    this.#clearTimer();
    this.phase = nextPhase(this.phase, 'done');
    const conn = this.#conn;
    this.#conn = null;
    conn?.endThenDestroy();
    this.#emit('info', null, null, null, 101, this.#bytes);
    this.#client.finished(false);
  }

  // ---- failure ----------------------------------------------------------------------------

  /** End the request with a router code: the line, the error page when one can still be sent. */
  fail(code: RouterCodeName, cause: string | null = null, desc: string | null = null): void {
    if (isTerminal(this.phase)) return;
    this.#clearTimer();
    if (this.phase === 'queued') this.#ctx.queued.delete(this);
    this.phase = nextPhase(this.phase, 'failed');
    if (this.#conn !== null) {
      this.#conn.destroy();
      this.#conn = null;
    }
    const clientGone = code === 'H27' || code === 'H28' || code === 'H24';
    const status =
      code === 'H24'
        ? null
        : clientGone
          ? 499
          : this.#headRelayed
            ? this.#status
            : statusFor(code, cause ?? undefined);
    // Bytes are counted once a dyno connection carried the request; before that there are none.
    let bytes: number | null = this.#proxyStartedAt < 0 ? null : this.#bytes;
    if (!clientGone && !this.#headRelayed && status !== null) {
      const page = this.head.method !== 'HEAD';
      this.#client.write(errorPageHead(status, this.#ctx.flavor));
      if (page) this.#client.write(ERROR_PAGE);
      if (this.#ctx.flavor === '2') bytes = page ? ERROR_PAGE.length : 0;
      this.#client.finished(false);
    } else {
      if (clientGone && this.#bytes === 0) bytes = null;
      this.#client.abort();
    }
    this.#emit(ROUTER_CODES[code].level, code, desc, cause, status, bytes);
  }

  /** Router shutdown (H24) or any other forced end. */
  forceClose(): void {
    this.fail('H24');
  }

  // ---- timers and records -----------------------------------------------------------------

  onTimer(): void {
    const code = this.#timerCode;
    this.#timerCode = null;
    if (code === null || isTerminal(this.phase)) return;
    if (code === 'H19') this.#connectFailed('H19');
    else if (code === 'H28' && this.phase !== 'sending') return;
    else this.fail(code);
  }

  #setTimer(code: TimerCode, ms: number): void {
    this.#timerCode = code;
    this.#client.requestTimer.set(ms);
  }

  #clearTimer(): void {
    if (this.#timerCode !== null) {
      this.#client.requestTimer.clear();
      this.#timerCode = null;
    }
  }

  /** Bytes moved: restart the rolling idle window (H15 while streaming, H28 while sending). */
  #refreshIdle(): void {
    if (this.#timerCode === 'H15' || this.#timerCode === 'H28')
      this.#client.requestTimer.set(this.#ctx.timers.idle);
  }

  #ensureIdleTimer(): void {
    this.#setTimer('H15', this.#ctx.timers.idle);
  }

  #emit(
    at: RouterRecord['at'],
    code: RouterCodeName | null,
    desc: string | null,
    cause: string | null,
    status: number | null,
    bytes: number | null,
  ): void {
    const ctx = this.#ctx;
    const head = this.head;
    emitRecord(ctx, {
      at,
      code,
      // Level, desc and prefix come from the code table, the one source of truth.
      desc: code === null ? null : (desc ?? ROUTER_CODES[code].desc),
      cause,
      sock: code === null ? null : ROUTER_CODES[code].sock,
      method: head.method,
      path: head.target,
      host: head.host === '' ? ctx.appHost : head.host,
      requestId: this.requestId,
      fwd: this.fwd,
      dyno: this.#dyno === null ? null : this.#dyno.name,
      connectMs: this.#connectMs,
      serviceMs: this.#proxyStartedAt < 0 ? null : performance.now() - this.#proxyStartedAt,
      status,
      bytes,
      protocol: ctx.protocol,
      tls: ctx.tls,
    });
  }
}
