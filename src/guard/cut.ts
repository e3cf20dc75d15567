/**
 * Ending a connection on the guard's own account: cutting a response that can no longer be
 * finished (a crash after its head went out, the drain deadline), and closing a socket the
 * guard decided to close (idle after the late window, the deadline).
 *
 * A cut never throws away bytes the app already wrote. Node corks the socket for the tick of
 * the first res.write() (and, from Node 24, the response can be corked itself), so after a
 * synchronous throw the head and the body written so far are still inside the process:
 * destroy() would drop them and the client would get nothing (an H13 behind the router). The
 * cut uncorks, ends the socket (FIN after the bytes) and destroys it only once they are out,
 * and records what the client received for the H18 line.
 */

import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type GuardCause, type GuardReceived, RECEIVED } from '../core/guard-vocabulary.js';
import type { RequestRecord } from './record.js';
import { socketState } from './state.js';

/** How long flushed bytes may take to leave before the socket is destroyed anyway. */
const FLUSH_LIMIT_MS = 1000;

/** Whether any byte of this response was handed to the socket (not only assembled). */
export function headLeft(res: ServerResponse): boolean {
  return (res as { _headerSent?: boolean })._headerSent === true;
}

/**
 * Bytes the socket has handed to the kernel so far. Node's getter reads its handle's counter
 * through a C++ accessor (no allocation, but a call into C++ per request: docs/guard.md,
 * "Fourteenth session"); `bytesWritten` would also walk the socket's write buffer.
 */
export function dispatched(socket: Socket): number {
  const n = (socket as { _bytesDispatched?: unknown })._bytesDispatched;
  return typeof n === 'number' ? n : 0;
}

function received(rec: RequestRecord, sent: number): GuardReceived {
  if (sent <= 0 || !headLeft(rec.res)) return RECEIVED.nothing;
  const head = (rec.res as { _header?: unknown })._header;
  return typeof head === 'string' && sent <= head.length ? RECEIVED.head : RECEIVED.partial_body;
}

/** Close a socket because the guard decided to (the coexistence wrappers let it through). */
export function closeNow(socket: Socket): void {
  const s = socketState(socket);
  if (s !== undefined) s.guardClosing = true;
  socket.destroy();
}

/**
 * Cut a response that will not be finished: flush what Node holds, FIN, destroy once sent.
 * The socket's close then logs H18 (or H13 when nothing had left) with `received=`.
 */
export function cutResponse(rec: RequestRecord, cause: GuardCause): void {
  if (rec.cut !== undefined) return;
  rec.cut = cause;
  const socket = rec.socket;
  const s = socketState(socket);
  if (s !== undefined) s.guardClosing = true;
  if (socket.destroyed) return;
  const res = rec.res as ServerResponse & { writableCorked?: number; uncork?: () => void };
  if (typeof res.uncork === 'function') while ((res.writableCorked ?? 0) > 0) res.uncork();
  while (socket.writableCorked > 0) socket.uncork();
  const sent = socket.bytesWritten - rec.bytesAtStart;
  rec.sentBytes = Math.max(sent, 0);
  rec.received = received(rec, rec.sentBytes);
  if (!socket.writable || socket.writableFinished) {
    socket.destroy();
    return;
  }
  socket.end();
  if (socket.writableFinished) socket.destroy();
  else {
    socket.once('finish', () => socket.destroy());
    setTimeout(() => socket.destroy(), FLUSH_LIMIT_MS).unref();
  }
}
