/**
 * How a request ends: normally (a complete response, or an upgrade that closed) or with a
 * router code. Every ending goes through here so each request produces exactly one record
 * (spec §1), and the dyno connection is either returned to the pool or destroyed, never both.
 */

import { performance } from 'node:perf_hooks';
import { ROUTER_CODES, type RouterCodeName, statusFor } from '../core/codes.js';
import type { RouterRecord } from '../core/router-line.js';
import type { ResponseParser } from '../http/response-parser.js';
import { emitRecord } from './context.js';
import { ERROR_PAGE, errorPageHead } from './error-page.js';
import type { Exchange } from './exchange.js';
import { clearTimer } from './exchange-timer.js';
import { isTerminal, nextPhase } from './phases.js';

/** The response was relayed whole: pool or close the dyno connection, then the info line. */
export function completeExchange(ex: Exchange): void {
  clearTimer(ex);
  ex.phase = nextPhase(ex.phase, 'done');
  const conn = ex.conn;
  ex.conn = null;
  if (conn !== null) {
    const parser = ex.parser as ResponseParser;
    if (ex.reusable && ex.requestDone && parser.keepAlive && !ex.ctx.closing) {
      conn.socket.resume();
      ex.ctx.pool.release(conn);
    } else {
      conn.destroy();
    }
  }
  emitExchangeRecord(ex, 'info', null, null, null, ex.status, ex.bytes);
  ex.client.finished(ex.clientKeepAlive && ex.requestDone);
}

/** A tunnel after a 101 ended (either side closed): logged as info with status 101. */
export function finishUpgrade(ex: Exchange): void {
  clearTimer(ex);
  ex.phase = nextPhase(ex.phase, 'done');
  const conn = ex.conn;
  ex.conn = null;
  conn?.endThenDestroy();
  emitExchangeRecord(ex, 'info', null, null, null, 101, ex.bytes);
  ex.client.finished(false);
}

/** Forget the body held before a dyno connection (sent, or the request ended). */
export function dropEarly(ex: Exchange): void {
  if (ex.early === null) return;
  ex.ctx.buffered.bytes -= ex.earlyBytes;
  ex.early = null;
  ex.earlyBytes = 0;
}

/** End the request with a router code: the line, the error page when one can still be sent. */
export function failExchange(
  ex: Exchange,
  code: RouterCodeName,
  cause: string | null,
  desc: string | null,
): void {
  if (isTerminal(ex.phase)) return;
  clearTimer(ex);
  dropEarly(ex);
  if (ex.phase === 'queued') ex.ctx.queued.delete(ex);
  ex.phase = nextPhase(ex.phase, 'failed');
  if (ex.conn !== null) {
    ex.conn.destroy();
    ex.conn = null;
  }
  const clientGone = code === 'H27' || code === 'H28' || code === 'H24';
  // H15 logs 503 even after a relayed head: the Error Codes page's example line does.
  const status =
    code === 'H24'
      ? null
      : clientGone
        ? 499
        : ex.headRelayed && code !== 'H15'
          ? ex.status
          : statusFor(code, cause ?? undefined);
  // Bytes are counted once a dyno connection carried the request; before that there are none.
  let bytes: number | null = ex.proxyStartedAt < 0 ? null : ex.bytes;
  if (!clientGone && !ex.headRelayed && status !== null) {
    const page = ex.head.method !== 'HEAD';
    ex.client.write(errorPageHead(status, ex.ctx.flavor));
    if (page) ex.client.write(ERROR_PAGE);
    if (ex.ctx.flavor === '2') bytes = page ? ERROR_PAGE.length : 0;
    ex.client.finished(false);
  } else {
    if (clientGone && ex.bytes === 0) bytes = null;
    if (clientGone) ex.client.abort();
    else ex.client.cut();
  }
  // HTTP Routing's router comparison: Router 2.0 reports every H code "except H23 and H26".
  // It answers the same requests (400/417) without a line.
  if (code === 'H26' && ex.ctx.flavor === '2') ex.ctx.inFlight--;
  else emitExchangeRecord(ex, ROUTER_CODES[code].level, code, desc, cause, status, bytes);
}

function emitExchangeRecord(
  ex: Exchange,
  at: RouterRecord['at'],
  code: RouterCodeName | null,
  desc: string | null,
  cause: string | null,
  status: number | null,
  bytes: number | null,
): void {
  const ctx = ex.ctx;
  const head = ex.head;
  ctx.inFlight--;
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
    requestId: ex.requestId,
    fwd: ex.fwd,
    dyno: ex.dyno === null ? null : ex.dyno.name,
    connectMs: ex.connectMs,
    serviceMs: ex.proxyStartedAt < 0 ? null : performance.now() - ex.proxyStartedAt,
    status,
    bytes,
    protocol: ctx.protocol,
    tls: ctx.tls,
  });
}
