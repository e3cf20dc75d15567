/**
 * Client → dyno: the request's way to the app. Refuses what the head already condemned (H26),
 * answers `Expect: 100-continue` itself (the header is not forwarded), keeps body bytes that
 * arrive before a dyno is connected, writes the rewritten head, and relays the body with its
 * framing enforced (Content-Length counted, chunked walked by ChunkedValidator; an invalid
 * chunk is H26) so bytes past the body are kept as the next pipelined request, never sent to
 * the dyno. The idle window while sending is H28.
 */

import { performance } from 'node:perf_hooks';
import type { DynoConnection } from './dyno-pool.js';
import { CONTINUE_RESPONSE } from './error-page.js';
import type { Exchange } from './exchange.js';
import { dropEarly, failExchange } from './exchange-end.js';
import { refreshIdle, setTimer } from './exchange-timer.js';
import { buildRequestHead } from './forward-head.js';
import { isTerminal, nextPhase } from './phases.js';

/** Body bytes a client may send before a dyno is connected, before it is paused. */
const MAX_EARLY_BODY = 64 * 1024;

/** The head was parsed: act on what it asks for, then take the bytes that followed it. */
export function openRequest(ex: Exchange, rest: Buffer | null): void {
  const head = ex.head;
  const ctx = ex.ctx;
  // H22: more client connections than the app's limit (Error Codes: "Connection limit
  // reached"); H11: more requests in flight than the backlog of the routable dynos (HTTP
  // Routing, Request Concurrency Limiting). Checked before anything else is done.
  if (ctx.clients.size > ctx.limits.maxConnections) {
    failExchange(ex, 'H22', null, null);
    return;
  }
  const backlog = ctx.limits.backlogPerDyno;
  if (
    ctx.inFlight > backlog &&
    ctx.inFlight > backlog * Math.max(1, ctx.balancer.routableCount())
  ) {
    failExchange(ex, 'H11', null, null);
    return;
  }
  if (head.h26 !== null) {
    failExchange(ex, 'H26', head.h26, null);
    return;
  }
  // RFC 9110 §10.1.1: never send 100 (Continue) to an HTTP/1.0 client.
  if (head.expectContinue && !ex.requestDone && head.version === '1.1')
    ex.client.write(CONTINUE_RESPONSE);
  if (rest !== null) relayRequestBody(ex, rest);
}

/** A dyno connection is ready: write the rewritten head and any body that arrived early. */
export function sendRequestHead(ex: Exchange): void {
  const conn = ex.conn as DynoConnection;
  const now = performance.now();
  ex.connectMs = now - ex.connectStartedAt;
  ex.phase = nextPhase(ex.phase, 'sending');
  ex.proxyStartedAt = now;
  const ctx = ex.ctx;
  const text = buildRequestHead(ex.head, {
    requestId: ex.requestId,
    fwd: ex.fwd,
    via: ctx.via,
    port: ctx.port,
    requestStartMs: ex.acceptedEpochMs,
    connectMs: Math.round(ex.connectMs),
    totalRouteMs: Math.round(now - ex.acceptedAt),
    keepAlive: ctx.flavor === '2',
    capitalize: ctx.flavor === 'legacy',
    asHttp11: ctx.flavor === 'legacy',
    ...(ctx.flavor === 'legacy' ? { clientIp: ex.client.ip } : {}),
  });
  const socket = conn.socket;
  if (ex.early === null) {
    socket.write(text, 'latin1');
  } else {
    // Head and early body leave together rather than as one segment each.
    socket.cork();
    socket.write(text, 'latin1');
    for (const chunk of ex.early) socket.write(chunk);
    socket.uncork();
    dropEarly(ex);
    ex.client.resume();
  }
  if (ex.requestDone) requestWritten(ex);
  else setTimer(ex, 'H28', ctx.timers.idle);
}

/** Bytes from the client while this request is live and not upgraded. */
export function relayRequestBody(ex: Exchange, chunk: Buffer): void {
  const phase = ex.phase;
  if (isTerminal(phase)) return;
  const client = ex.client;
  if (ex.requestDone) {
    // Pipelined requests wait until this one is answered.
    client.stash(chunk);
    if (ex.timerCode === 'H15') refreshIdle(ex);
    return;
  }
  let take = chunk.length;
  let body: Buffer | null;
  if (ex.chunked !== null) {
    const r = ex.chunked.push(chunk);
    if (r.state === 'error') {
      failExchange(ex, 'H26', 'bad chunk', null);
      return;
    }
    if (r.state === 'done') {
      take = r.end;
      ex.requestDone = true;
    }
    // Extensions dropped, sizes in plain hex, trailers checked (chunked.ts rewrite mode).
    body = rewritten(ex.chunked.output);
  } else {
    if (take >= ex.bodyRemaining) {
      take = ex.bodyRemaining;
      ex.requestDone = true;
    }
    ex.bodyRemaining -= take;
    body = take === 0 ? null : take === chunk.length ? chunk : chunk.subarray(0, take);
  }
  if (take < chunk.length) client.stash(chunk.subarray(take));
  if (phase === 'sending' || phase === 'streaming') {
    refreshIdle(ex);
    if (body !== null && !(ex.conn as DynoConnection).socket.write(body)) client.pause();
    if (ex.requestDone) requestWritten(ex);
  } else if (body !== null) {
    if (ex.early === null) ex.early = [body];
    else ex.early.push(body);
    ex.earlyBytes += body.length;
    // Counted in the router-wide budget with heads and pipelines (client-connection.ts).
    const buffered = ex.ctx.buffered;
    buffered.bytes += body.length;
    if (ex.earlyBytes > MAX_EARLY_BODY || buffered.bytes > ex.ctx.limits.maxBufferedBytes)
      client.pause();
  }
}

/** The pieces a chunked push produced, as one Buffer (null when nothing is to be sent). */
function rewritten(pieces: ReadonlyArray<Uint8Array | string>): Buffer | null {
  if (pieces.length === 0) return null;
  const only = pieces[0];
  if (pieces.length === 1 && typeof only !== 'string') return only as Buffer;
  return Buffer.concat(
    pieces.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : (p as Buffer))),
  );
}

/** The whole request reached the dyno: the first-byte timer (H12) starts. */
function requestWritten(ex: Exchange): void {
  if (ex.phase !== 'sending') return;
  ex.phase = nextPhase(ex.phase, 'awaiting');
  setTimer(ex, 'H12', ex.ctx.timers.firstByte);
}
