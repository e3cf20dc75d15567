/**
 * What every request of one router shares: options resolved once, the balancer, the dyno
 * pool, the live client connections, and how a finished request is reported (one router
 * line to the log sink, one typed record to `onRecord`).
 */

import type { LogSink } from '../core/log-sink.js';
import type { RouterFlavor, RouterRecord } from '../core/router-line.js';
import { formatRouterMessage } from '../core/router-line.js';
import type { Balancer } from './balancer.js';
import type { DynoPool } from './dyno-pool.js';
import type { RouterLimits, RouterTimers } from './options.js';

/** The parts of a connection or request the router must be able to end on close(). */
export interface Closable {
  forceClose(): void;
}

export interface RouterContext {
  readonly flavor: RouterFlavor;
  readonly timers: RouterTimers;
  readonly limits: RouterLimits;
  /** Request-head and pipelined bytes held by every client connection together (bounded by limits). */
  readonly buffered: { bytes: number };
  /** Requests past their head and not yet logged (H11 counts them against the backlog). */
  inFlight: number;
  readonly appHost: string;
  /** The port clients connect to (X-Forwarded-Port); set once listening. */
  port: number;
  readonly via: string;
  readonly server: string;
  /** Header lines added to every relayed response (REPORTING_HEADERS). */
  readonly added: string;
  readonly protocol: string;
  readonly tls: boolean | null;
  readonly balancer: Balancer;
  readonly pool: DynoPool;
  /** Requests waiting for a starting dyno, re-routed on every table change. */
  readonly queued: Set<{ onTableChange(): void }>;
  readonly clients: Set<Closable>;
  closing: boolean;
  /** Called when the last client connection closes (used by close()). */
  onClientsEmpty: (() => void) | null;
  readonly log: LogSink | undefined;
  readonly onRecord: ((record: RouterRecord) => void) | undefined;
}

/** The JSON log format carries the line's fields under the names the line uses. */
function jsonFields(r: RouterRecord): Record<string, unknown> {
  return {
    sock: r.sock,
    at: r.at,
    code: r.code,
    desc: r.desc,
    cause: r.cause,
    method: r.method,
    path: r.path,
    host: r.host,
    request_id: r.requestId,
    fwd: r.fwd,
    dyno: r.dyno,
    connect: r.connectMs,
    service: r.serviceMs,
    status: r.status,
    bytes: r.bytes,
    protocol: r.protocol,
    tls: r.tls,
  };
}

/** Report one finished request; a throwing onRecord or sink never breaks the router. */
export function emitRecord(ctx: RouterContext, record: RouterRecord): void {
  try {
    const log = ctx.log;
    if (log !== undefined) {
      log.line(
        'heroku',
        'router',
        formatRouterMessage(record),
        log.wantsFields === false ? undefined : jsonFields(record),
      );
    }
  } catch (err) {
    process.emitWarning(`h13 router: log sink failed: ${String(err)}`);
  }
  if (ctx.onRecord !== undefined) {
    try {
      ctx.onRecord(record);
    } catch (err) {
      process.emitWarning(`h13 router: onRecord threw: ${String(err)}`);
    }
  }
}
