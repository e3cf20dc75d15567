/**
 * Getting a request to a dyno: pick one (or queue for a starting one, H20), take a pooled
 * connection or open one (H19 on the timer), and on a failed connect quarantine that dyno and
 * try the next, up to the balancer's attempt limit, before logging H19/H21 for the last
 * failure (spec §5). `connect=` covers every attempt.
 */

import { performance } from 'node:perf_hooks';
import { dynoKey } from './balancer.js';
import type { DynoConnection } from './dyno-pool.js';
import type { Dyno } from './dynos.js';
import type { Exchange } from './exchange.js';
import { failExchange } from './exchange-end.js';
import { clearTimer, setTimer } from './exchange-timer.js';
import { nextPhase } from './phases.js';
import { sendRequestHead } from './request-relay.js';

// The pool keys connections by dyno; the key string is made once per dyno, not per request.
const keys = new WeakMap<Dyno, string>();
function keyOf(dyno: Dyno): string {
  let key = keys.get(dyno);
  if (key === undefined) {
    key = dynoKey(dyno);
    keys.set(dyno, key);
  }
  return key;
}

/** Leave `head` for `routing` and choose a dyno. */
export function routeExchange(ex: Exchange): void {
  ex.phase = nextPhase(ex.phase, 'routing');
  const ctx = ex.ctx;
  const pick = ctx.balancer.pick(null);
  if (typeof pick !== 'string') {
    ex.attemptLimit = ctx.balancer.attemptLimit();
    connectTo(ex, pick);
  } else if (pick === 'queue') {
    ex.phase = nextPhase(ex.phase, 'queued');
    ctx.queued.add(ex);
    setTimer(ex, 'H20', ctx.timers.bootQueue);
  } else {
    failExchange(ex, pick, null, null);
  }
}

/** The dyno table changed while this request waits for a starting dyno. */
export function rerouteQueued(ex: Exchange): void {
  if (ex.phase !== 'queued') return;
  const ctx = ex.ctx;
  const pick = ctx.balancer.pick(null);
  if (pick === 'queue') return;
  ctx.queued.delete(ex);
  clearTimer(ex);
  if (typeof pick === 'string') {
    failExchange(ex, pick, null, null);
    return;
  }
  ex.phase = nextPhase(ex.phase, 'routing');
  ex.attemptLimit = ctx.balancer.attemptLimit();
  connectTo(ex, pick);
}

function connectTo(ex: Exchange, dyno: Dyno, fresh = false): void {
  ex.phase = nextPhase(ex.phase, 'connecting');
  if (ex.dyno === null) ex.connectStartedAt = performance.now();
  ex.dyno = dyno;
  const key = keyOf(dyno);
  const pooled = fresh ? null : ex.ctx.pool.take(dyno, key, ex);
  ex.pooled = pooled !== null;
  if (pooled !== null) {
    ex.conn = pooled;
    sendRequestHead(ex);
    return;
  }
  ex.conn = ex.ctx.pool.open(dyno, key, ex);
  setTimer(ex, 'H19', ex.ctx.timers.connect);
}

/** The connection being opened is up: the request can go. */
export function dynoConnected(ex: Exchange, conn: DynoConnection): void {
  if (conn !== ex.conn || ex.phase !== 'connecting') return;
  clearTimer(ex);
  sendRequestHead(ex);
}

/** Connect refused (H21) or timed out (H19): try another dyno, or log the last failure. */
export function connectFailed(ex: Exchange, code: 'H19' | 'H21'): void {
  clearTimer(ex);
  const dyno = ex.dyno as Dyno;
  ex.conn?.destroy();
  ex.conn = null;
  const ctx = ex.ctx;
  ctx.balancer.quarantine(dyno);
  ex.tried ??= [];
  ex.tried.push(dyno.name);
  if (ex.tried.length < ex.attemptLimit && !ctx.closing) {
    const next = ctx.balancer.pick(ex.tried);
    if (typeof next !== 'string') {
      connectTo(ex, next);
      return;
    }
  }
  ex.connectMs = performance.now() - ex.connectStartedAt;
  failExchange(ex, code, null, null);
}

/**
 * A pooled connection was reset before any response byte: the Router 2.0 keep-alive race
 * (Heroku's Keepalives section; help article "H18 or H13 errors since switching to Router
 * 2.0"). Heroku's logs show only POSTs failing, as H18 503 bytes=567, the GETs apparently
 * retried on a fresh connection (opencollective-api#12160, 500 of 500 H18s were POSTs). So a
 * request that is safe to send again (GET/HEAD/OPTIONS, no body, not yet retried) goes once
 * more on a new connection to the same dyno; anything else is H18.
 */
export function retriesAfterPoolRace(ex: Exchange): boolean {
  if (!ex.pooled || ex.retried || ex.bytes !== 0 || ex.head.framing.kind !== 'none') return false;
  const m = ex.head.method;
  if (m !== 'GET' && m !== 'HEAD' && m !== 'OPTIONS') return false;
  clearTimer(ex);
  ex.conn?.destroy();
  ex.conn = null;
  ex.retried = true;
  ex.reusable = true;
  ex.proxyStartedAt = -1;
  connectTo(ex, ex.dyno as Dyno, true);
  return true;
}
