/**
 * startRouter: a raw `net` server in front of the dynos of a DynoTable, emulating Heroku's
 * HTTP router (shared/spec/heroku-router.md). Raw sockets rather than node:http because the
 * router must read and classify bytes exactly as Heroku does, which Node's parser does not.
 */

import net from 'node:net';
import { H13Error } from '../core/errors.js';
import type { LogSink } from '../core/log-sink.js';
import type { RouterFlavor, RouterRecord } from '../core/router-line.js';
import { Balancer } from './balancer.js';
import { ClientConnection } from './client-connection.js';
import type { RouterContext } from './context.js';
import { type ConnectFunction, DynoPool, defaultConnect } from './dyno-pool.js';
import { DynoTable } from './dynos.js';
import { REPORTING_HEADERS, SERVER_HEADER, VIA_VALUE } from './error-page.js';
import { DEFAULT_LIMITS, HEROKU_TIMERS, type RouterLimits, type RouterTimers } from './options.js';

export interface RouterOptions {
  /** The dynos to route to; the router only reads it and listens to its 'change' event. */
  readonly dynos: DynoTable;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  /** '2' (Router 2.0, default) or 'legacy'. */
  readonly flavor?: RouterFlavor;
  /** Defaults: HEROKU_TIMERS. */
  readonly timers?: Partial<RouterTimers>;
  /** Defaults: DEFAULT_LIMITS (head bytes held, connections, backlog). */
  readonly limits?: Partial<RouterLimits>;
  /** `host=` when the request has no Host header (default 'localhost'). */
  readonly appHost?: string;
  /** Each finished request becomes one `heroku[router]` line here. */
  readonly log?: LogSink;
  /** Each finished request, typed (the same data as the line). */
  readonly onRecord?: (record: RouterRecord) => void;
  /**
   * How the router opens TCP connections to dynos (default net.connect). For tests and
   * fault injection; the router never connects anywhere but the table's dynos.
   */
  readonly connect?: ConnectFunction;
}

export interface RouterHandle {
  readonly port: number;
  /** http://HOST:PORT */
  readonly url: string;
  /** Open client and dyno sockets (leak tests: both return to 0 once traffic ends). */
  openSockets(): { readonly client: number; readonly dyno: number };
  /** Request-head and pipelined bytes the router holds right now, all connections together. */
  bufferedBytes(): number;
  /** Stop accepting; in-flight requests end as H24; pooled connections are closed. */
  close(): Promise<void>;
}

function invalid(field: string, message: string): H13Error {
  return new H13Error('H13_ERR_INVALID_OPTION', message, { field });
}

function resolveTimers(partial: Partial<RouterTimers> | undefined): RouterTimers {
  const timers = { ...HEROKU_TIMERS, ...partial };
  for (const [name, value] of Object.entries(timers)) {
    const min = name === 'lateRouting' || name === 'quarantine' ? 0 : 1;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > 2 ** 31 - 1)
      throw invalid(`timers.${name}`, `timers.${name} must be a number of ms >= ${min}`);
  }
  return timers;
}

function resolveLimits(partial: Partial<RouterLimits> | undefined): RouterLimits {
  const limits = { ...DEFAULT_LIMITS, ...partial };
  for (const [name, value] of Object.entries(limits)) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
      throw invalid(`limits.${name}`, `limits.${name} must be a whole number >= 1`);
  }
  return limits;
}

export async function startRouter(options: RouterOptions): Promise<RouterHandle> {
  if (!(options.dynos instanceof DynoTable))
    throw invalid('dynos', 'dynos must be a DynoTable (see staticDynos())');
  const flavor = options.flavor ?? '2';
  if (flavor !== '2' && flavor !== 'legacy')
    throw invalid('flavor', `flavor must be '2' or 'legacy', not ${JSON.stringify(flavor)}`);
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw invalid('port', `port must be an integer from 0 to 65535, not ${String(port)}`);
  const host = options.host ?? '127.0.0.1';
  const timers = resolveTimers(options.timers);
  const limits = resolveLimits(options.limits);
  const dynos = options.dynos;

  const ctx: RouterContext = {
    flavor,
    timers,
    limits,
    buffered: { bytes: 0 },
    inFlight: 0,
    appHost: options.appHost ?? 'localhost',
    port,
    via: VIA_VALUE[flavor],
    server: SERVER_HEADER[flavor],
    added: REPORTING_HEADERS[flavor],
    protocol: flavor === '2' ? 'http1.1' : 'http',
    tls: flavor === '2' ? false : null,
    balancer: new Balancer(dynos, timers.lateRouting, timers.quarantine),
    pool: new DynoPool({
      keepAlive: flavor === '2',
      idleMs: timers.poolIdle,
      connect: options.connect ?? defaultConnect,
    }),
    queued: new Set(),
    clients: new Set(),
    closing: false,
    onClientsEmpty: null,
    log: options.log,
    onRecord: options.onRecord,
  };

  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    if (ctx.closing) {
      socket.destroy();
      return;
    }
    ctx.clients.add(new ClientConnection(ctx, socket));
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) =>
      reject(
        new H13Error('H13_ERR_LISTEN', `router: cannot listen on ${host}:${port}: ${err.message}`, {
          cause: err,
        }),
      );
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  // Errors after listening (EMFILE on accept...) must not crash the process.
  server.on('error', (err) => process.emitWarning(`h13 router: ${err.message}`));
  const address = server.address() as net.AddressInfo;
  ctx.port = address.port;

  const onChange = (): void => {
    if (ctx.queued.size === 0) return;
    for (const waiting of [...ctx.queued]) waiting.onTableChange();
  };
  dynos.on('change', onChange);

  let closed: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      ctx.closing = true;
      dynos.off('change', onChange);
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      const clientsClosed =
        ctx.clients.size === 0
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              ctx.onClientsEmpty = resolve;
            });
      for (const client of [...ctx.clients]) client.forceClose();
      await clientsClosed;
      await ctx.pool.closeAll();
      await serverClosed;
    })();
    return closed;
  };

  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    port: address.port,
    url: `http://${shownHost}:${address.port}`,
    openSockets: () => ({ client: ctx.clients.size, dyno: ctx.pool.openCount }),
    bufferedBytes: () => ctx.buffered.bytes,
    close,
  };
}
