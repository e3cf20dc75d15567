/**
 * Dyno → client: the response's way back. ResponseParser decides where the head and the
 * response end and what is malformed (H17/H25); the head is re-serialized with the router's
 * headers and leaves with the body bytes that came with it in one write; the rest of the body
 * is relayed as it arrives, pausing the dyno while the client cannot take more. A 101 turns
 * the exchange into a byte tunnel both ways under the idle window (H15).
 *
 * A dyno chunk lives in its connection's read buffer (dyno-pool.ts): every write of a view of
 * it is followed by `conn.lendIfQueued`, so a queued write keeps bytes nobody overwrites.
 */

import { ChunkedValidator } from '../http/chunked.js';
import { type ResponseFault, type ResponseHead, ResponseParser } from '../http/response-parser.js';
import type { ClientConnection } from './client-connection.js';
import type { DynoConnection } from './dyno-pool.js';
import type { Exchange } from './exchange.js';
import { completeExchange, failExchange } from './exchange-end.js';
import { refreshIdle, setTimer } from './exchange-timer.js';
import { buildInterimHead, buildResponseHead } from './forward-head.js';
import { nextPhase } from './phases.js';

/** Past this many body bytes the head and body go out as a writev instead of one copy. */
const JOIN_LIMIT = 16 * 1024;

/**
 * The relayed head and the body bytes that arrived with it leave in one syscall. A small body
 * is copied behind the head into one Buffer (from Node's shared pool): a single write skips
 * the stream's writev path, which builds a chunk array and a write request per cork/uncork.
 */
function writeHead(
  client: ClientConnection,
  conn: DynoConnection,
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
  conn.lendIfQueued(client.socket);
  return writable;
}

/** Response bytes from this request's dyno connection (not upgraded). */
export function relayResponse(ex: Exchange, conn: DynoConnection, chunk: Buffer): void {
  const phase = ex.phase;
  if (phase === 'sending' || phase === 'awaiting') {
    ex.phase = nextPhase(phase, 'streaming');
    ex.parser = new ResponseParser(ex.head.method);
  } else if (phase !== 'streaming') {
    return;
  }
  const client = ex.client;
  const parser = ex.parser as ResponseParser;
  const r = parser.push(chunk);
  if (r.fault !== null) {
    // vegur relays a head it could read and then cuts the connection when the body turns
    // out bad: the client keeps the status (its line logs it) and sees a truncated body.
    if (r.head !== null && !ex.headRelayed) relayHeadOnly(ex, r.head);
    responseFault(ex, r.fault);
    return;
  }
  let writable = true;
  if (!ex.headRelayed && r.interim.length > 0 && ex.head.version === '1.1') {
    for (const interim of r.interim) {
      const text = buildInterimHead(interim, ex.ctx.via);
      ex.bytes += text.length;
      if (!client.write(text)) writable = false;
    }
  }
  let start = 0;
  if (r.head !== null) {
    if (parser.framing === 'upgrade' && ex.head.upgrade === null) {
      // A 101 nobody asked for would turn the connection into an unlogged tunnel to the dyno.
      responseFault(ex, {
        code: 'H17',
        desc: null,
        detail: '101 Switching Protocols to a request that asked for no upgrade',
      });
      return;
    }
    const ctx = ex.ctx;
    ex.status = r.head.status;
    // A response that has no body by rule, but whose app may write one anyway (a HEAD
    // answered with a body, a chunked 204/304, a 204 with a Content-Length, which RFC 9110
    // §8.6 forbids): bytes arriving after it would be read as the next request's response.
    // Such a connection is never reused. (A 304 may carry the Content-Length of the 200.)
    if (
      ex.head.method === 'HEAD' ||
      (parser.framing === 'none' &&
        (parser.transferEncoding || (r.head.status === 204 && parser.declaredLength > 0)))
    )
      ex.reusable = false;
    // A chunked response to an HTTP/1.0 client is de-chunked and ended with the connection:
    // vegur does it (vegur_proxy relay_chunked), and RFC 9112 §6.1 forbids Transfer-Encoding
    // toward a client that did not send HTTP/1.1 (Router 2.0 meets it only from an app that
    // chunks its answer to the HTTP/1.0 request it was forwarded).
    if (ex.head.version === '1.0' && parser.framing === 'chunked')
      ex.decoder = new ChunkedValidator({ decode: true });
    ex.clientKeepAlive =
      ex.head.keepAlive &&
      ex.requestDone &&
      parser.framing !== 'close' &&
      ex.decoder === null &&
      !ctx.closing;
    const text = buildResponseHead(r.head, {
      via: ctx.via,
      server: ctx.server,
      added: ctx.added,
      sayKeepAlive: ctx.flavor === 'legacy',
      capitalize: ctx.flavor === 'legacy',
      clientKeepAlive: ex.clientKeepAlive,
      clientVersion: ex.head.version,
      transferEncoding: parser.transferEncoding,
      dechunk: ex.decoder !== null,
    });
    ex.headRelayed = true;
    ex.bytes += text.length;
    start = r.bodyStart;
    if (parser.framing === 'upgrade') {
      client.write(text);
      upgrade(ex, chunk, start);
      return;
    }
    // Head and the body bytes that came with it leave in one write (one syscall).
    const stop = r.end ?? chunk.length;
    if (ex.decoder !== null) {
      client.write(text);
      writable = writeDecoded(ex, conn, chunk, start, stop);
    } else {
      ex.bytes += stop - start;
      writable = writeHead(client, conn, text, chunk, start, stop);
    }
  } else if (!ex.headRelayed) {
    // Only 1xx heads so far: an app may send them without end (103 Early Hints in a loop),
    // so a client that does not read pauses the dyno here as it does for a body.
    if (!writable) conn.socket.pause();
    setTimer(ex, 'H15', ex.ctx.timers.idle);
    return;
  } else if (ex.decoder !== null) {
    writable = writeDecoded(ex, conn, chunk, start, r.end ?? chunk.length);
  } else {
    const stop = r.end ?? chunk.length;
    if (stop > start) {
      ex.bytes += stop - start;
      writable = client.write(
        start === 0 && stop === chunk.length ? chunk : chunk.subarray(start, stop),
      );
      conn.lendIfQueued(client.socket);
    }
  }
  if (r.end !== null) {
    if (r.end < chunk.length) ex.reusable = false; // bytes past the response: not HTTP
    completeExchange(ex);
    return;
  }
  if (!writable) conn.socket.pause();
  setTimer(ex, 'H15', ex.ctx.timers.idle);
}

/** The chunk data of `chunk[start..stop)`, without its framing, to the client. */
function writeDecoded(
  ex: Exchange,
  conn: DynoConnection,
  chunk: Buffer,
  start: number,
  stop: number,
): boolean {
  const decoder = ex.decoder as ChunkedValidator;
  // The parser already walked and accepted these bytes: the decoder only picks the data out.
  decoder.push(chunk.subarray(start, stop));
  let writable = true;
  for (const piece of decoder.output) {
    ex.bytes += piece.length;
    writable = ex.client.write(piece as Buffer);
  }
  conn.lendIfQueued(ex.client.socket);
  return writable;
}

function relayHeadOnly(ex: Exchange, head: ResponseHead): void {
  const ctx = ex.ctx;
  ex.status = head.status;
  ex.clientKeepAlive = false;
  const text = buildResponseHead(head, {
    via: ctx.via,
    server: ctx.server,
    added: ctx.added,
    capitalize: ctx.flavor === 'legacy',
    clientKeepAlive: false,
    clientVersion: ex.head.version,
    transferEncoding: (ex.parser as ResponseParser).transferEncoding,
  });
  ex.headRelayed = true;
  ex.bytes += text.length;
  ex.client.write(text);
}

function responseFault(ex: Exchange, fault: ResponseFault): void {
  ex.reusable = false;
  failExchange(ex, fault.code, null, fault.desc);
}

/** A 101 was relayed: from now on bytes are piped both ways until either side closes. */
function upgrade(ex: Exchange, chunk: Buffer, bodyStart: number): void {
  ex.phase = nextPhase(ex.phase, 'upgraded');
  ex.reusable = false;
  const conn = ex.conn as DynoConnection;
  if (bodyStart < chunk.length) {
    ex.bytes += chunk.length - bodyStart;
    ex.client.write(chunk.subarray(bodyStart));
    conn.lendIfQueued(ex.client.socket);
  }
  // Bytes the client sent after its upgrade request belong to the new protocol.
  const early = ex.client.takeStash();
  if (early !== null) conn.socket.write(early);
  setTimer(ex, 'H15', ex.ctx.timers.idle);
}

/** Upgraded: dyno bytes to the client, counted in `bytes=`. */
export function tunnelToClient(ex: Exchange, conn: DynoConnection, chunk: Buffer): void {
  refreshIdle(ex);
  ex.bytes += chunk.length;
  const writable = ex.client.write(chunk);
  conn.lendIfQueued(ex.client.socket);
  if (!writable) conn.socket.pause();
}

/** Upgraded: client bytes to the dyno. */
export function tunnelToDyno(ex: Exchange, chunk: Buffer): void {
  refreshIdle(ex);
  if (!(ex.conn as DynoConnection).socket.write(chunk)) ex.client.pause();
}
