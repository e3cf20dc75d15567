/**
 * Bad clients. Seen through the server's emit (never by adding a listener, which would turn
 * off Node's own 400/408/413/431). When the app has its own listener, the guard lets it run
 * and answers if it only destroyed the socket or left it hanging. Every one is logged with
 * the error code, the remote address, an escaped preview of the bytes and, when the raw
 * bytes carry a valid one, the X-Request-Id.
 */

import type http from 'node:http';
import type { Socket } from 'node:net';
import { EVENT } from '../core/guard-vocabulary.js';
import { isValidRequestId } from '../core/request-id.js';
import { canAnswer, cannedResponse } from './answer.js';
import { previewBytes } from './detect.js';
import { lingerClose } from './linger.js';
import type { RequestRecord } from './record.js';
import type { ServerState, SocketState } from './state.js';
import { liveRecord, socketState, stats } from './state.js';

/** The client is gone: nothing can be answered and a socket error is not a bad request. */
const GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT']);

/** Node 20's canned answers (research node-http.md §1.2). */
export function clientErrorStatus(code: string): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 413;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

const ID_HEADER = /(?:^|\n)x-request-id[ \t]*:[ \t]*([^\r\n]*)/i;

/** The X-Request-Id a rejected request carried, if its raw bytes hold a valid one. */
export function requestIdFromRaw(raw: unknown): string | undefined {
  if (!Buffer.isBuffer(raw)) return undefined;
  const text = raw.toString('latin1', 0, Math.min(raw.length, 16_384));
  const m = ID_HEADER.exec(text);
  const value = m?.[1]?.trim();
  return isValidRequestId(value) ? value : undefined;
}

type AnsweredBy = 'node' | 'app' | 'guard' | 'none';

interface ClientErrorLike {
  code?: string;
  reason?: string;
  message?: string;
  rawPacket?: unknown;
}

/**
 * Errors the HTTP parser or Node's request timers raise. Node emits 'clientError' for any
 * socket error, so an error the app passed to req.destroy(err) or socket.destroy(err) (Fastify
 * does) comes here too, and is not a bad request.
 */
function isParserError(code: string): boolean {
  return code.startsWith('HPE_') || code === 'ERR_HTTP_REQUEST_TIMEOUT';
}

export function handleClientError(
  st: ServerState,
  server: http.Server,
  err: ClientErrorLike,
  socket: Socket,
): boolean {
  const s = socketState(socket);
  const code = typeof err?.code === 'string' ? err.code : 'UNKNOWN';
  const gone = GONE.has(code);
  if (s?.clientErrorPending || s?.lingering) {
    // The parser repeats its error on every later chunk while an owed response is awaited or
    // the socket lingers after its answer (linger.ts): the bad request was handled once.
    return true;
  }
  if (!gone && !isParserError(code)) {
    if (st.options.clientErrors) socketErrorLine(st, socket, err, code);
    return st.emit.call(server, 'clientError', err, socket);
  }
  const live = s === undefined ? null : liveRecord(s);
  const res = live?.res;
  const owed = live?.owed() === true;
  if (s !== undefined) {
    s.clientErrorSeen = code;
    if (gone) s.clientGone = code;
  }
  if (!st.options.clientErrors) return st.emit.call(server, 'clientError', err, socket);
  const status = clientErrorStatus(code);
  const id = requestIdFromRaw(err?.rawPacket);
  // An earlier request on this socket was received whole and its response is still owed:
  // the bad bytes came after it (a GET with an undeclared body parses as a second request).
  // Answering 400 now would be read as the answer to that valid request, and destroying the
  // socket would lose its response; the 400 waits until the owed response is out.
  const waits = !gone && owed && live?.req.complete && s !== undefined && socket.writable;
  // The 400 waits for the owed response: then the app's listener answers, or the guard does.
  const answerAfterOwed = () => {
    if (!waits) return;
    s.clientErrorPending = true;
    afterOwed(
      live,
      socket,
      (mark) => {
        const by = answerAfter(socket, s, status, id, mark);
        report(st, s, socket, err, code, false, owed, by, status, id, true);
      },
      () => report(st, s, socket, err, code, false, owed, 'none', status, id, true),
    );
  };

  if (server.listenerCount('clientError') === 0) {
    if (waits) {
      answerAfterOwed();
      return true;
    }
    // Node answers itself after emit() returns false, under exactly this condition.
    const nodeAnswers = socket.writable && (res === undefined || !res.headersSent);
    if (s !== undefined && nodeAnswers) {
      s.clientErrorAnswered = true;
      // Node destroys right after its answer: that destroy becomes a linger (detect.ts).
      if (!gone) s.lingerNext = true;
    }
    report(st, s, socket, err, code, gone, owed, nodeAnswers ? 'node' : 'none', status, id, false);
    return st.emit.call(server, 'clientError', err, socket);
  }

  const before = socket.bytesWritten;
  if (s !== undefined) {
    s.inClientError = true;
    s.clientErrorWaits = waits;
    s.clientErrorBytes = before;
    s.clientErrorStatus = status;
    s.clientErrorId = id;
  }
  let result: boolean;
  try {
    result = st.emit.call(server, 'clientError', err, socket);
  } finally {
    if (s !== undefined) {
      s.inClientError = false;
      s.clientErrorWaits = false;
    }
  }
  if (waits && socket.bytesWritten === before && !socket.writableEnded) {
    // The app's listener deferred (hapi waits for the in-flight response), or destroyed the
    // socket, which the guard held back: after the owed response, let the app answer, else
    // answer as Node would have.
    answerAfterOwed();
    return result;
  }
  let by: AnsweredBy;
  if (s?.clientErrorAnswered) by = 'guard';
  else if (socket.bytesWritten > before) {
    by = 'app';
    // The listener answered and ended the socket (Node's docs do socket.end(answer)): the
    // parser would raise the error again on the next chunk, and the guard would destroy the
    // ended socket, an RST that can overtake the answer. Linger instead.
    if (s !== undefined && socket.writableEnded && !socket.destroyed) lingerClose(socket, s);
    else if (waits && s.clientErrorDestroyed && !socket.destroyed) {
      // It answered and destroyed while an earlier response was owed (Fastify's listener):
      // the guard held that destroy back. Close once the owed response is out, with FIN and
      // the linger, or the socket would stay open until a keep-alive timeout.
      s.clientErrorPending = true;
      afterOwed(
        live,
        socket,
        () => lingerClose(socket, s),
        () => {},
      );
    }
  } else if (!gone && canAnswer(socket, res)) {
    // The listener returned without closing the socket: Node would leave it open until a
    // timeout (a hang behind a proxy). Answer and close, as Node's default does.
    socket.write(cannedResponse(status, id));
    if (s !== undefined) {
      s.clientErrorAnswered = true;
      lingerClose(socket, s);
    } else socket.destroy();
    by = 'guard';
  } else {
    by = 'none';
    if (!socket.destroyed && (gone || socket.writableEnded)) socket.destroy();
  }
  report(st, s, socket, err, code, gone, owed, by, status, id, false);
  return result;
}

/**
 * Run `then` a tick after the owed response has finished (so that an app listener waiting for
 * it, like hapi's, answers first), with the socket's byte count at that moment; never if the
 * socket closes first.
 */
function afterOwed(
  rec: RequestRecord,
  socket: Socket,
  then: (mark: number) => void,
  lost: () => void,
): void {
  let done = false;
  const onFinish = () => {
    if (done) return;
    done = true;
    socket.removeListener('close', onClose);
    const mark = socket.bytesWritten;
    setImmediate(() => then(mark));
  };
  const onClose = () => {
    // The owed response was lost with the socket: detect.ts logs it (H13/H18); the bad
    // request itself got no answer.
    if (done) return;
    done = true;
    lost();
  };
  // Before Node's own finish listener and the app's: the count must not include their bytes.
  rec.res.prependOnceListener('finish', onFinish);
  socket.once('close', onClose);
}

/** After the owed response: the app answered (bytes, end, destroy) or the guard does now. */
function answerAfter(
  socket: Socket,
  s: SocketState,
  status: number,
  id: string | undefined,
  mark: number,
): AnsweredBy {
  if (socket.bytesWritten > mark) return 'app';
  // Closed after the response (Connection: close, or the app ended it): nothing more to say.
  if (socket.destroyed || !socket.writable || socket.writableEnded) return 'none';
  s.clientErrorAnswered = true;
  s.guardClosing = true;
  socket.write(cannedResponse(status, id));
  lingerClose(socket, s);
  return 'guard';
}

function socketErrorLine(st: ServerState, socket: Socket, err: ClientErrorLike, code: string) {
  st.out.line(
    'info',
    {
      event: EVENT.socket_error,
      desc: 'Socket destroyed with an error by app or library code (not a bad request)',
      error: code,
      message: typeof err?.message === 'string' ? err.message.slice(0, 200) : undefined,
      remote_addr: socket.remoteAddress,
    },
    'Socket destroyed with an error',
  );
}

function report(
  st: ServerState,
  s: SocketState | undefined,
  socket: Socket,
  err: ClientErrorLike,
  code: string,
  gone: boolean,
  owed: boolean,
  by: AnsweredBy,
  status: number,
  id: string | undefined,
  afterResponse: boolean,
): void {
  if (gone) {
    // A reset on an idle keep-alive socket is how clients leave; a reset with a response
    // owed is reported by the response's own H27 line. Only a reset mid-first-request is new.
    if (owed || s === undefined || s.requests > 0 || socket.bytesRead === 0) return;
  }
  stats.clientErrors++;
  st.out.line(
    by === 'none' && !gone ? 'error' : gone ? 'info' : 'warning',
    {
      event: EVENT.client_error,
      desc: gone ? 'Client reset the connection' : 'Bad request rejected by the HTTP parser',
      error: code,
      reason: typeof err?.reason === 'string' ? err.reason : undefined,
      status: by === 'node' || by === 'guard' ? status : undefined,
      answered_by: by,
      after_response: afterResponse ? true : undefined,
      remote_addr: socket.remoteAddress,
      request_id: id,
      bytes: previewBytes(err?.rawPacket),
    },
    gone ? 'Client reset the connection' : 'Bad request rejected by the HTTP parser',
  );
}
