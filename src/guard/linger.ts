/**
 * Closing after an answer to a bad request, as RFC 9112 §9.6 asks ("tear-down"): send the
 * answer, close the write side (FIN), keep reading and discarding what the client still sends
 * for a bounded time, then close. A close() while request bytes sit unread in the kernel makes
 * it send RST at once, and an RST can overtake the answer before the client reads it: a client
 * still sending a large body sees a reset instead of its 400 (behind Heroku's router, an H13).
 *
 * Node's HTTP parser keeps reading the socket after a parse error (it consumes the socket's
 * handle, so the bytes never reach JavaScript) and repeats its error on every later chunk, each
 * time through socketOnError, the app's clientError listener, and a destroy(): that repeated
 * destroy is what sent the RST even when the first close was delayed. So the linger takes the
 * socket from the parser: a 'data' listener (Node's listener wrapper then hands the handle back
 * from the parser) and without Node's own feed; client-error.ts swallows any error the parser
 * still raises on a lingering socket.
 *
 * Bounded both ways: `clientErrorLingerMs` from the answer, `clientErrorLingerBytes` discarded
 * (a client that keeps sending past that is destroyed). The socket closes as soon as the client
 * closes its side.
 */

import net, { type Socket } from 'node:net';
import type { SocketState } from './state.js';

const protoEnd = net.Socket.prototype.end;

/** Node's own 'data' listener that feeds its HTTP parser (lib/_http_server.js, Node 22 to 26). */
const NODE_PARSER_FEED = 'bound socketOnData';

/**
 * FIN after what was written, discard what arrives, destroy at the client's FIN, the byte cap or
 * the deadline. With a zero linger, destroys at once (Node's own behaviour).
 */
export function lingerClose(socket: Socket, s: SocketState): void {
  if (s.lingering || socket.destroyed) return;
  const { clientErrorLingerMs: ms, clientErrorLingerBytes: cap } = s.server.options;
  s.lingering = true;
  if (ms === 0) {
    socket.destroy();
    return;
  }
  while (socket.writableCorked > 0) socket.uncork();
  if (!socket.writableEnded) Reflect.apply(protoEnd, socket, []);
  let discarded = 0;
  const close = () => {
    clearTimeout(timer);
    socket.destroy();
  };
  // Destroying before the answer left the process would throw it away: wait for 'finish'.
  const closeWhenSent = () => {
    if (socket.writableFinished) close();
    else socket.once('finish', close);
  };
  const timer = setTimeout(close, ms);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  for (const fn of socket.listeners('data')) {
    if (fn.name === NODE_PARSER_FEED) socket.removeListener('data', fn as (b: Buffer) => void);
  }
  socket.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > cap) close();
  });
  socket.once('end', closeWhenSent);
  if (socket.readableEnded) closeWhenSent();
  else socket.resume();
}
