/**
 * Detection: per socket, one `close` listener and a destroy() wrapper; nothing per request.
 *
 * A response that closes without `finish` ended unfinished: H13 when no header went out, H18
 * when some did. In Node that only happens when its socket closes: the response attached to
 * the socket (socket._httpMessage) is the one Node closes with it (onServerResponseClose), so
 * the socket's own close listener classifies it, and responses need no listener of their own.
 * Every close path in Node (timeouts, parse errors, res.destroy(), closeAllConnections, app
 * code) goes through socket.destroy(), so the wrapper records who called it, but only when a
 * response is owed; the normal path never pays for a stack.
 */

import type { ServerResponse } from 'node:http';
import net, { type Socket } from 'node:net';
import { CAUSE, EVENT, type GuardCause } from '../core/guard-vocabulary.js';
import { escapeBytes } from '../http/raw-exchange.js';
import { answerFor, canAnswer, cannedResponse } from './answer.js';
import { deferClose } from './coexist.js';
import { headLeft } from './cut.js';
import { stepLine, unfinishedLine } from './lines.js';
import { lingerClose } from './linger.js';
import { type RequestRecord, recordOf } from './record.js';
import { captureStack, causeFromStack, topFrames } from './stack.js';
import {
  kSocketState,
  liveRecord,
  type ServerState,
  SocketState,
  socketState,
  stats,
} from './state.js';

const protoDestroy = net.Socket.prototype.destroy;
const protoEnd = net.Socket.prototype.end;

function guardedDestroy(this: Socket, err?: Error): Socket {
  const s = socketState(this);
  if (s !== undefined && !this.destroyed) {
    if (s.lingering) return protoDestroy.call(this, err);
    if (lingers(this, s)) return this;
    if (err === undefined && deferClose(this, s)) return this;
    if (beforeDestroy(this, s, guardedDestroy)) return this;
  }
  return protoDestroy.call(this, err);
}

/** end() is only looked at during a drain (coexist.ts); one shared function, no closure. */
function guardedEnd(this: Socket, ...args: unknown[]): Socket {
  const s = socketState(this);
  if (s !== undefined && !this.writableEnded && deferClose(this, s)) return this;
  return Reflect.apply(protoEnd, this, args) as Socket;
}

/** Start watching a socket: state, destroy wrapper, removal on close. Once per connection. */
export function trackSocket(server: ServerState, socket: Socket): SocketState {
  const s = new SocketState(server);
  (socket as unknown as { [kSocketState]: SocketState })[kSocketState] = s;
  if (socket.end === protoEnd) socket.end = guardedEnd as Socket['end'];
  if (socket.destroy === protoDestroy) {
    socket.destroy = guardedDestroy;
  } else {
    // Someone wrapped destroy already (an APM agent): wrap theirs.
    const theirs = socket.destroy;
    const wrapped = function (this: Socket, err?: Error) {
      const st = socketState(this);
      if (st !== undefined && !this.destroyed) {
        if (st.lingering) return theirs.call(this, err);
        if (lingers(this, st)) return this;
        if (err === undefined && deferClose(this, st)) return this;
        if (beforeDestroy(this, st, wrapped)) return this;
      }
      return theirs.call(this, err);
    };
    socket.destroy = wrapped;
  }
  server.sockets.add(socket);
  socket.once('close', onSocketClose);
  return s;
}

/**
 * Node's destroy right after its own answer to a bad request (client-error.ts flags it) starts
 * the linger instead; every destroy during a linger (its own end, the app's, a shutdown) goes
 * through.
 */
function lingers(socket: Socket, s: SocketState): boolean {
  if (!s.lingerNext) return false;
  s.lingerNext = false;
  lingerClose(socket, s);
  return true;
}

/**
 * Registered at 'connection', before Node's own listeners, so it runs before Node closes the
 * attached response: the state it reads (headersSent, writableFinished, readableEnded) is what
 * a response 'close' listener would have seen.
 */
function onSocketClose(this: Socket): void {
  const s = socketState(this);
  if (s === undefined) return;
  s.server.sockets.delete(this);
  s.current = null;
  // Responses queued behind it (pipelining) are never closed by Node 20 either.
  const res = (this as { _httpMessage?: ServerResponse | null })._httpMessage;
  if (res === null || res === undefined) return;
  const rec = recordOf(res.req);
  if (rec === undefined || rec.answered !== 0 || res.writableFinished) return;
  classify(rec, s);
}

/**
 * Before a socket is destroyed. Returns true when the socket must stay: an app clientError
 * listener destroying it while an earlier response on it is still owed (client-error.ts
 * answers once that response is out).
 */
function beforeDestroy(
  socket: Socket,
  s: SocketState,
  above: (...args: never[]) => unknown,
): boolean {
  if (s.inClientError) {
    if (s.clientErrorWaits) {
      s.clientErrorDestroyed = true;
      return true;
    }
    if (s.clientGone !== undefined) return false;
    // The app's clientError listener destroys without answering: answer first (Node's
    // default would have), unless a response already started.
    if (
      !s.clientErrorAnswered &&
      socket.bytesWritten === s.clientErrorBytes &&
      canAnswer(socket, liveRecord(s)?.res)
    ) {
      socket.write(cannedResponse(s.clientErrorStatus, s.clientErrorId));
      s.clientErrorAnswered = true;
    }
    // An answer (the guard's or the app's own) is followed by FIN and a linger, not by a close
    // that could turn it into an RST.
    if (socket.bytesWritten > s.clientErrorBytes) {
      lingerClose(socket, s);
      return true;
    }
    return false;
  }
  const rec = liveRecord(s);
  if (rec !== null) {
    if (!rec.owed() || s.destroyStack !== null || rec.cut !== undefined) return false;
    if (s.clientGone !== undefined) return false;
    // A bad request after this one waits for its response (client-error.ts): a destroy now is
    // the app's, and is named so; it is not answered, as the socket already carries a bad
    // request. Any other client error closes the socket through Node.
    if (s.clientErrorSeen !== undefined && !s.clientErrorPending) return false;
    const holder = captureStack(above);
    s.destroyStack = holder;
    const options = rec.server.options;
    if (options.answer && !headLeft(rec.res) && !s.clientErrorPending) {
      const cause = causeFromStack(holder);
      const status = cause === CAUSE.socket_timeout || cause === CAUSE.request_timeout ? 503 : 500;
      answerFor(rec, status, cause, topFrames(holder, options.stackFrames), 'keep');
    }
    return false;
  }
  if (
    s.requests === 0 &&
    !s.guardClosing &&
    s.clientGone === undefined &&
    s.clientErrorSeen === undefined &&
    socket.bytesRead > 0 &&
    socket.bytesWritten === 0
  ) {
    preRequestClose(socket, s, captureStack(above));
  }
  return false;
}

/** A socket that sent bytes and is closed before any request was formed or answered. */
function preRequestClose(socket: Socket, s: SocketState, holder: Error): void {
  stats.preRequestCloses++;
  const out = s.server.out;
  out.line(
    'error',
    {
      code: 'H13',
      event: EVENT.pre_request_close,
      desc: 'Connection closed without response',
      cause: causeFromStack(holder),
      remote_addr: socket.remoteAddress,
      bytes_read: socket.bytesRead,
      stack: topFrames(holder, s.server.options.stackFrames),
    },
    'Connection closed without response',
  );
}

function classify(rec: RequestRecord, s: SocketState): void {
  const out = rec.server.out;
  const partial = headLeft(rec.res);
  if (rec.cut !== undefined) {
    failed(rec, partial ? 'H18' : 'H13', rec.cut, undefined);
    return;
  }
  if (s.clientGone !== undefined) {
    stats.clientAborted++;
    unfinishedLine(out, rec, 'H27', 'info', CAUSE.client_reset, undefined);
    return;
  }
  if (rec.socket.readableEnded) {
    if (!rec.req.complete) {
      stats.clientAborted++;
      unfinishedLine(out, rec, 'H27', 'info', CAUSE.client_aborted, undefined);
    } else {
      // A FIN after a complete request may be a client that still wants the answer
      // (Node ends the socket on FIN by default): ambiguous, so counted apart.
      stats.clientFinAfterRequest++;
      unfinishedLine(out, rec, 'H27', 'warning', CAUSE.client_fin_after_request, undefined);
    }
    return;
  }
  // A client error on this socket never makes a lost valid response silent: it is logged
  // below as H13/H18 with cause=client_error.
  const holder = s.destroyStack;
  if (holder !== null) {
    s.destroyStack = null;
    failed(
      rec,
      partial ? 'H18' : 'H13',
      causeFromStack(holder),
      topFrames(holder, rec.server.options.stackFrames),
    );
    return;
  }
  failed(
    rec,
    partial ? 'H18' : 'H13',
    s.clientErrorSeen !== undefined ? CAUSE.client_error : CAUSE.unknown,
    undefined,
  );
}

function failed(
  rec: RequestRecord,
  code: 'H13' | 'H18',
  cause: GuardCause,
  stack: string | undefined,
): void {
  if (code === 'H13') stats.h13++;
  else stats.h18++;
  const out = rec.server.out;
  if (rec.server.options.steps === 'failure' && rec.stepList !== null) {
    for (const step of rec.stepList) stepLine(out, rec, step);
  }
  unfinishedLine(out, rec, code, 'error', cause, stack);
}

/** A short, escaped preview of what a bad client sent. */
export function previewBytes(raw: unknown): string | undefined {
  return Buffer.isBuffer(raw) && raw.length > 0 ? escapeBytes(raw, 80) : undefined;
}
