/**
 * POST of a batch of lines for one app: admitted (app cap, content type, per-app limits),
 * read (bounded), parsed by its format, committed to the store, and only then answered 2xx
 * and fed to the app's analyzer. Logplex's contract (heroku/logplex
 * src/logplex_http_drain.erl, handle_response_status): a 2xx is delivered; any other 4xx but
 * 429 drops the batch for good; 429, 5xx and timeouts are retried with the same Frame-Id.
 * So a partly bad batch is stored and answered 200 (its problems counted), never refused; a
 * store failure answers 503 so logplex sends it again.
 */

import { type DrainContext, isAppName, type RouteRequest } from './context.js';
import type { CounterName } from './counters.js';
import { readBody, sendError, sendJson } from './http-io.js';
import { accepts, type IngestFormat } from './ingest-formats.js';
import type { IngestResult } from './store.js';

/** Frame ids and drain tokens are short printable ASCII (logplex: 32 hex digits, `d.UUID`). */
const HEADER_ID = /^[\x21-\x7e]{1,200}$/;

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export async function ingest(
  ctx: DrainContext,
  format: IngestFormat,
  { req, res, params }: RouteRequest,
): Promise<void> {
  const app = params[0] ?? '';
  const now = Date.now();
  if (!isAppName(app)) {
    sendError(res, 400, 'the app name in the path must be 1-100 letters, digits, ".", "_" or "-"', {
      close: true,
    });
    return;
  }
  // A new app's place is kept from here until its request ends (its first batch, or the
  // counter of its refusal, is in the store by then), so new apps arriving together cannot
  // pass --max-apps.
  const isNew = !(await ctx.store.hasApp(app));
  if (isNew && !ctx.limits.reserveNew(app, await ctx.store.appCount(), ctx.settings.maxApps)) {
    ctx.log({ at: 'warn', event: 'rejected', status: 403, app, reason: 'max-apps' });
    sendError(res, 403, `this drain already keeps ${ctx.settings.maxApps} apps (--max-apps)`, {
      close: true,
    });
    return;
  }
  try {
    await admitted(ctx, format, app, now, req, res);
  } finally {
    if (isNew) ctx.limits.releaseNew(app);
  }
}

async function admitted(
  ctx: DrainContext,
  format: IngestFormat,
  app: string,
  now: number,
  req: RouteRequest['req'],
  res: RouteRequest['res'],
): Promise<void> {
  const reject = async (
    status: number,
    counter: CounterName,
    message: string,
    headers: Record<string, string> = {},
  ) => {
    ctx.log({ at: 'warn', event: 'rejected', status, app, reason: counter });
    await ctx.store.countRejected(app, counter, now).catch(() => {});
    sendError(res, status, message, { close: true, headers });
  };
  const contentType = req.headers['content-type'];
  if (!accepts(format, contentType)) {
    await reject(
      415,
      'rejected-content-type',
      `${req.url?.split('?')[0] ?? ''} reads ${format.contentTypes.join(', ')}; got ${JSON.stringify(contentType ?? '')}`,
    );
    return;
  }
  const msgCountHeader = single(req.headers['logplex-msg-count']);
  const frameId = single(req.headers['logplex-frame-id']) ?? null;
  const token = single(req.headers['logplex-drain-token']) ?? null;
  if (
    (msgCountHeader !== undefined && !/^\d{1,9}$/.test(msgCountHeader)) ||
    (frameId !== null && !HEADER_ID.test(frameId)) ||
    (token !== null && !HEADER_ID.test(token))
  ) {
    await reject(
      400,
      'rejected-bad-request',
      'Logplex-Msg-Count must be a number; Logplex-Frame-Id and Logplex-Drain-Token 1-200 printable ASCII characters',
    );
    return;
  }
  if (!ctx.limits.enter(app, now)) {
    await reject(429, 'rejected-rate', `too many requests of ${app} at once`, {
      'retry-after': '1',
    });
    return;
  }
  try {
    const read = await readBody(req, ctx.settings.maxBodyBytes);
    if (read.kind === 'too-large') {
      await reject(
        413,
        'rejected-too-large',
        `body over ${ctx.settings.maxBodyBytes} bytes (--max-body)`,
      );
      return;
    }
    if (read.kind === 'aborted') {
      // Node answers 408 itself when the request timeout cut it; a client that left gets nothing.
      ctx.log({ at: 'warn', event: 'aborted', app, reason: 'body not received' });
      await ctx.store.countRejected(app, 'rejected-timeout', now).catch(() => {});
      return;
    }
    const parsed = format.parse(
      read.body,
      { msgCount: msgCountHeader === undefined ? null : Number(msgCountHeader) },
      ctx.settings.maxLineBytes,
    );
    if (!ctx.limits.take(app, parsed.lines.length, Date.now())) {
      const wait = ctx.limits.retryAfterSeconds(app, parsed.lines.length);
      await reject(
        429,
        'rejected-rate',
        `${app} is over ${ctx.settings.appRate} lines per second (--app-rate)`,
        {
          'retry-after': String(wait),
        },
      );
      return;
    }
    let result: IngestResult;
    try {
      result = await ctx.commits.ingest({
        app,
        frameId,
        token,
        receivedMs: Date.now(),
        lines: parsed.lines,
        platformErrors: parsed.platformErrors,
        counters: parsed.counters,
        samples: parsed.samples,
      });
    } catch (err) {
      ctx.log({ at: 'error', event: 'store-failed', app, error: (err as Error).message });
      sendError(res, 503, 'the batch could not be stored; send it again', { close: true });
      return;
    }
    if (!result.stored) {
      sendJson(res, 200, { app, lines: 0, duplicate: true });
      return;
    }
    sendJson(res, 200, { app, lines: parsed.lines.length, duplicate: false });
    ctx.analyses.feed(
      app,
      parsed.lines.map((l) => l.text),
    );
  } finally {
    ctx.limits.leave(app);
  }
}
