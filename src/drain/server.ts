/**
 * `startDrain(options)`: the store opened and migrated, the credential resolved, the recent
 * lines of each app fed again to a fresh analyzer (what a killed process had not decided yet
 * is decided now; diagnoses already stored are not stored twice), then the HTTP server.
 */

import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { H13Error } from '../core/errors.js';
import { formatFields } from '../core/logfmt.js';
import { Alerts, parseWebhook } from './alerts.js';
import { AppAnalyses } from './app-analyses.js';
import { AppLimits } from './app-limits.js';
import { resolveCredential } from './auth.js';
import { AUTH_LIMITS, AuthThrottle } from './auth-throttle.js';
import { capConnections } from './connection-cap.js';
import type { DrainContext } from './context.js';
import { GroupCommit } from './group-commit.js';
import { LiveEvents } from './live-events.js';
import { type DrainOptions, resolveDrainOptions } from './options.js';
import type { PgAnalysis } from './pg-analysis.js';
import { encodeLive, LIVE_CHANNEL } from './pg-live.js';
import type { PgStore } from './pg-store.js';
import { dispatch } from './routes.js';
import { sessionKeys } from './session.js';
import { type SessionEnds, sessionEnds } from './session-ends.js';
import { openSqliteStore } from './sqlite-store.js';
import type { NewDiagnosis, Store } from './store.js';

const FLUSH_EVERY_MS = 100;
const PRUNE_EVERY_MS = 10 * 60_000;
/** Frame ids are remembered this long: logplex retries a batch at most twice, at once. */
const FRAME_IDS_MS = 6 * 3_600_000;
/**
 * At start, lines that arrived this long before are fed again: the errors a killed process
 * had not decided, with the evidence logged before them.
 */
const REPLAY_MIN_MS = 2 * 60_000;
const REPLAY_MAX_LINES = 20_000;
/** And at most this many in all, so a restart with many apps still boots in seconds. */
const REPLAY_MAX_TOTAL = 200_000;
/** Unsent bytes a live subscriber may hold before it is disconnected as too slow. */
const LIVE_MAX_BUFFERED = 256 * 1024;
const HEARTBEAT_MS = 20_000;
/**
 * How often open live streams are checked against the ended sessions (one query, only while
 * streams opened with a cookie are open): the bound when a logout's NOTIFY was lost.
 */
const SESSION_SWEEP_MS = 5000;
const ALERT_RETRY_BASE_MS = 1000;
const ALERT_TIMEOUT_MS = 10_000;
/** With PostgreSQL, how often a process looks for apps with unread lines besides NOTIFY. */
const ANALYSIS_POLL_MS = 1000;

export interface Drain {
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** Set when this start generated the password (print it once). */
  readonly generatedPassword: string | undefined;
  readonly store: Store;
  /** Stops accepting, decides what is pending, stores it, closes the database. */
  close(): Promise<void>;
}

export async function startDrain(options: DrainOptions = {}): Promise<Drain> {
  const settings = resolveDrainOptions(options);
  if (settings.requestTimeoutMs === 0)
    throw new H13Error(
      'H13_ERR_INVALID_OPTION',
      'requestTimeoutMs: 0 would let a stalled sender hold a connection forever',
      { field: 'requestTimeoutMs' },
    );
  const write = settings.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const log: DrainContext['log'] = (fields) => write(formatFields(fields));
  // Checked before the store opens: a bad webhook fails the start, not the first alert.
  const webhooks = settings.webhooks.map(parseWebhook);
  let pgStore: PgStore | undefined;
  let store: Store;
  if (settings.databaseUrl === undefined) store = openSqliteStore(settings.dbPath);
  // Loaded only when asked for, so an embedded drain never loads node-postgres.
  else store = pgStore = await (await import('./pg-store.js')).openPgStore(settings.databaseUrl);
  let pgAnalysis: PgAnalysis | undefined;
  let ends: SessionEnds | undefined;
  const alerts = new Alerts(
    {
      webhooks,
      errorRatePercent: settings.alertErrorRate,
      windowMs: settings.alertWindowMs,
      minRequests: settings.alertMinRequests,
      intervalMs: settings.alertIntervalMs,
      retries: settings.alertRetries,
      retryBaseMs: settings.alertRetryBaseMs ?? ALERT_RETRY_BASE_MS,
      timeoutMs: settings.alertTimeoutMs ?? ALERT_TIMEOUT_MS,
    },
    store,
    log,
  );
  let writes: Promise<unknown> = Promise.resolve();
  const live = new LiveEvents(
    {
      maxSubscribers: settings.maxSubscribers,
      maxBufferedBytes: LIVE_MAX_BUFFERED,
      heartbeatMs: settings.heartbeatMs ?? HEARTBEAT_MS,
    },
    (app) => log({ at: 'warn', event: 'live-subscriber-dropped', app: app ?? '*', reason: 'slow' }),
  );
  /** What a new diagnosis sets off once it is stored: the live pages (and the alerts). */
  /** Names this process in the live events it shares with others on PostgreSQL. */
  const origin = randomBytes(8).toString('hex');
  const announce = async (app: string, added: readonly NewDiagnosis[]) => {
    for (const d of added) {
      const data = {
        app,
        key: d.key,
        time: d.json.time,
        code: d.json.code,
        cause: d.json.cause,
        method: d.json.method,
        path: d.json.path,
        requestId: d.json.requestId,
      };
      live.publish(app, 'diagnosis', data);
      const shared =
        pgStore === undefined ? null : encodeLive({ from: origin, app, event: 'diagnosis', data });
      if (shared !== null)
        await pgStore
          ?.notify(LIVE_CHANNEL, shared)
          .catch((err: unknown) =>
            log({ at: 'warn', event: 'live-share-failed', app, error: (err as Error).message }),
          );
    }
    await alerts.onNew(app, added);
  };
  try {
    const { credential, generated } = await resolveCredential(
      store,
      settings.user,
      settings.password,
    );
    const analyses = new AppAnalyses({
      windowMs: settings.windowMs,
      idleMs: settings.analyzerIdleMs,
      onDiagnoses: (app, items) => {
        writes = writes
          .then(() => store.addDiagnosesNew(app, items))
          .then((added) =>
            announce(app, added).catch((err: unknown) =>
              log({ at: 'error', event: 'announce-failed', app, error: (err as Error).message }),
            ),
          )
          .catch((err: unknown) =>
            log({ at: 'error', event: 'store-failed', app, error: (err as Error).message }),
          );
      },
      onError: (app, err) =>
        log({
          at: 'error',
          event: 'analyzer-failed',
          app,
          error: String((err as Error)?.stack ?? err),
        }),
    });
    const replayMs = Math.max(REPLAY_MIN_MS, 3 * settings.windowMs);
    const session = await sessionKeys(store, credential, settings.sessionTtlMs);
    const sharing = pgStore;
    ends = sessionEnds({
      store,
      keys: session,
      live,
      share: sharing === undefined ? null : (payload) => sharing.notify(LIVE_CHANNEL, payload),
      origin,
      sweepMs: SESSION_SWEEP_MS,
      log,
    });
    const sessionEnded = ends;
    if (pgStore !== undefined)
      pgAnalysis = new (await import('./pg-analysis.js')).PgAnalysis(pgStore, analyses, {
        pollMs: options.analysisPollMs ?? ANALYSIS_POLL_MS,
        replayMs,
        replayMaxLines: REPLAY_MAX_LINES,
        log,
        onLive: (m) => {
          if (sessionEnded.received(m)) return;
          if (m.from !== origin) live.publish(m.app, m.event, m.data);
        },
      });
    const ctx: DrainContext = {
      settings,
      store,
      commits: new GroupCommit(store),
      analyses: pgAnalysis ?? analyses,
      limits: new AppLimits(settings.appRate, settings.appConcurrency),
      credential,
      web: {
        session,
        ends,
        live,
        logins: new AuthThrottle({
          ...AUTH_LIMITS,
          behindRouter: (process.env.DYNO ?? '') !== '',
        }),
      },
      log,
    };
    // One process: the recent lines fed again here. Several on PostgreSQL: each app's lines
    // are fed by the process that takes its lock, from its stored cursor (pg-analysis.ts).
    if (pgAnalysis === undefined) await replay(ctx, analyses);
    else await pgAnalysis.start();
    log({ at: 'info', event: 'store', kind: store.kind });
    const prune = async () => {
      try {
        const removed = await store.prune(Date.now(), {
          dataMs: settings.retentionMs,
          linesMs: settings.linesRetentionMs,
          frameIdsMs: Math.max(FRAME_IDS_MS, settings.windowMs),
        });
        const total = Object.values(removed).reduce((a, b) => a + b, 0);
        if (total > 0) log({ at: 'info', event: 'pruned', ...removed });
      } catch (err) {
        log({ at: 'error', event: 'prune-failed', error: (err as Error).message });
      }
    };
    await prune();
    const server = createServer(
      {
        headersTimeout: Math.min(settings.headersTimeoutMs, settings.requestTimeoutMs),
        requestTimeout: settings.requestTimeoutMs,
        // Node checks those timeouts on this period (30 s by default): a fraction of the
        // shortest one keeps the bound close to what was asked.
        connectionsCheckingInterval: Math.max(
          10,
          Math.floor(Math.min(settings.headersTimeoutMs, settings.requestTimeoutMs) / 4),
        ),
      },
      (req, res) => {
        dispatch(ctx, req, res).catch((err: unknown) => {
          log({ at: 'error', event: 'handler-failed', error: (err as Error).message });
          if (!res.headersSent) {
            res.writeHead(500, { 'content-type': 'application/json', connection: 'close' });
            res.end('{"error":"internal error"}\n');
          } else res.destroy();
        });
      },
    );
    capConnections(server, settings.maxConnections, log);
    await listen(server, settings.port, settings.host);
    const address = server.address() as AddressInfo;
    const flushTimer = setInterval(() => analyses.tick(), options.flushEveryMs ?? FLUSH_EVERY_MS);
    const pruneTimer = setInterval(prune, options.pruneEveryMs ?? PRUNE_EVERY_MS);
    flushTimer.unref();
    pruneTimer.unref();
    const shownHost = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
    let closing: Promise<void> | undefined;
    return {
      url: `http://${shownHost}:${address.port}`,
      port: address.port,
      host: settings.host,
      generatedPassword: generated,
      store,
      close() {
        closing ??= (async () => {
          clearInterval(flushTimer);
          clearInterval(pruneTimer);
          live.close();
          ends?.close();
          alerts.close();
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeIdleConnections();
          });
          await pgAnalysis?.stop();
          analyses.finishAll();
          await writes;
          // The apps' locks go only now, with their last diagnoses stored.
          await pgAnalysis?.release();
          await store.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    live.close();
    alerts.close();
    await pgAnalysis?.stop();
    await writes;
    await pgAnalysis?.release();
    await store.close();
    throw err;
  }
}

async function replay(ctx: DrainContext, analyses: AppAnalyses): Promise<void> {
  const since = Date.now() - Math.max(REPLAY_MIN_MS, 3 * ctx.settings.windowMs);
  let budget = REPLAY_MAX_TOTAL;
  for (const app of await ctx.store.activeApps(since)) {
    if (budget <= 0) {
      ctx.log({ at: 'warn', event: 'replay-cut', app, reason: 'replay budget spent' });
      continue;
    }
    const lines = await ctx.store.recentLines(app, since, Math.min(REPLAY_MAX_LINES, budget));
    budget -= lines.length;
    if (lines.length === 0) continue;
    analyses.feed(
      app,
      lines.map((l) => l.line),
    );
    ctx.log({ at: 'info', event: 'replayed', app, lines: lines.length });
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) =>
      reject(
        new H13Error('H13_ERR_LISTEN', `drain: cannot listen on ${host}:${port}: ${err.message}`, {
          cause: err,
        }),
      );
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
