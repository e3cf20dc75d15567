/**
 * OTLP/HTTP receiver for Fir telemetry drains (`heroku telemetry:add URL --signals logs`).
 * Answers follow the OTLP specification (open-telemetry/opentelemetry-proto
 * docs/specification.md, "OTLP/HTTP"): a request is `POST /v1/logs` with an
 * ExportLogsServiceRequest in `application/x-protobuf` or `application/json`, optionally
 * `Content-Encoding: gzip`; success is 200 with an ExportLogsServiceResponse in the request's
 * encoding, its partial_success counting the records not kept ("Partial Success"); a body
 * that cannot be decoded is 400 with a google.rpc.Status ("Failures"), an unsupported
 * content type 415, and only 429/502/503/504 are retried by senders, honouring Retry-After
 * ("Retryable Response Codes", "Throttling").
 *
 * A sender retries a whole request, so each app's part of it is stored with the body's
 * SHA-256 as its batch id: a retry after a partly stored request stores nothing twice.
 */

import { createHash } from 'node:crypto';
import { gunzip } from 'node:zlib';
import type { DrainContext, RouteRequest } from './context.js';
import { isAppName } from './context.js';
import type { CounterName } from './counters.js';
import { readBody } from './http-io.js';
import { mediaType } from './ingest-formats.js';
import {
  type Encoding,
  fail,
  INVALID_ARGUMENT,
  OTLP_JSON,
  OTLP_PROTOBUF,
  PERMISSION_DENIED,
  RESOURCE_EXHAUSTED,
  succeed,
  UNAVAILABLE,
} from './otlp-answer.js';
import { type OtlpLogs, readLogs } from './otlp-records.js';
import { decodeLogsRequest } from './otlp-schema.js';

function inflate(body: Buffer, maxBytes: number): Promise<Buffer | 'too-large' | 'invalid'> {
  return new Promise((resolve) => {
    gunzip(body, { maxOutputLength: maxBytes }, (err, out) => {
      if (err === null) resolve(out);
      else
        resolve(
          (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? 'too-large' : 'invalid',
        );
    });
  });
}

/** The decoded request, or why it could not be decoded. */
function decode(body: Buffer, encoding: Encoding): { value: unknown } | { error: string } {
  try {
    if (encoding === OTLP_PROTOBUF) return { value: decodeLogsRequest(body) };
    // Invalid bytes become U+FFFD and are counted per line (otlp-records.ts).
    return { value: JSON.parse(body.toString('utf8')) };
  } catch (err) {
    // protobufjs refuses nesting past its depth limit; JSON.parse may overflow the stack.
    return {
      error: `the body is not ${encoding === OTLP_PROTOBUF ? 'protobuf' : 'JSON'} of an ExportLogsServiceRequest: ${(err as Error).message.slice(0, 200)}`,
    };
  }
}

/**
 * A request on `/otlp/APP/v1/logs` is admitted for APP before its body is read, as logplex
 * batches are (ingest-route.ts): a place under --max-apps and under --app-concurrency. On
 * `/v1/logs` the apps are known only once the body is decoded; store() admits each then.
 */
export async function otlpLogs(ctx: DrainContext, r: RouteRequest): Promise<void> {
  const pathApp = r.params[0] ?? null;
  const type = mediaType(r.req.headers['content-type']);
  // Answers are in the request's encoding; to a type it does not read, in JSON.
  const encoding: Encoding = type === OTLP_PROTOBUF ? OTLP_PROTOBUF : OTLP_JSON;
  if (pathApp === null) {
    await receive(ctx, r, null, encoding);
    return;
  }
  if (!isAppName(pathApp)) {
    fail(
      r.res,
      encoding,
      400,
      INVALID_ARGUMENT,
      'the app name in the path must be 1-100 letters, digits, ".", "_" or "-"',
    );
    return;
  }
  const isNew = !(await ctx.store.hasApp(pathApp));
  if (isNew && !ctx.limits.reserveNew(pathApp, await ctx.store.appCount(), ctx.settings.maxApps)) {
    ctx.log({ at: 'warn', event: 'rejected', status: 403, app: pathApp, reason: 'max-apps' });
    fail(
      r.res,
      encoding,
      403,
      PERMISSION_DENIED,
      `this drain already keeps ${ctx.settings.maxApps} apps (--max-apps)`,
    );
    return;
  }
  try {
    if (!ctx.limits.enter(pathApp, Date.now())) {
      ctx.log({
        at: 'warn',
        event: 'rejected',
        status: 429,
        app: pathApp,
        reason: 'rejected-rate',
      });
      await ctx.store.countRejected(pathApp, 'rejected-rate', Date.now()).catch(() => {});
      fail(r.res, encoding, 429, RESOURCE_EXHAUSTED, `too many requests of ${pathApp} at once`, {
        'retry-after': '1',
      });
      return;
    }
    try {
      await receive(ctx, r, pathApp, encoding);
    } finally {
      ctx.limits.leave(pathApp);
    }
  } finally {
    if (isNew) ctx.limits.releaseNew(pathApp);
  }
}

async function receive(
  ctx: DrainContext,
  { req, res }: RouteRequest,
  pathApp: string | null,
  encoding: Encoding,
): Promise<void> {
  const now = Date.now();
  const type = mediaType(req.headers['content-type']);
  const refuse = async (
    status: number,
    counter: CounterName,
    code: number,
    message: string,
    headers?: Record<string, string>,
  ) => {
    ctx.log({ at: 'warn', event: 'rejected', status, app: pathApp ?? '', reason: counter });
    if (pathApp !== null) await ctx.store.countRejected(pathApp, counter, now).catch(() => {});
    fail(res, encoding, status, code, message, headers);
  };
  const contentEncoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (
    (type !== OTLP_PROTOBUF && type !== OTLP_JSON) ||
    !['gzip', 'identity'].includes(contentEncoding)
  ) {
    await refuse(
      415,
      'rejected-content-type',
      INVALID_ARGUMENT,
      `OTLP/HTTP reads ${OTLP_PROTOBUF} or ${OTLP_JSON}, gzip or not; got ${JSON.stringify(req.headers['content-type'] ?? '')} ${JSON.stringify(contentEncoding)}`,
    );
    return;
  }
  const read = await readBody(req, ctx.settings.maxBodyBytes);
  if (read.kind === 'aborted') {
    ctx.log({ at: 'warn', event: 'aborted', app: pathApp ?? '', reason: 'body not received' });
    if (pathApp !== null)
      await ctx.store.countRejected(pathApp, 'rejected-timeout', now).catch(() => {});
    return;
  }
  const tooLarge = `body over ${ctx.settings.maxBodyBytes} bytes (--max-body), inflated or not`;
  if (read.kind === 'too-large') {
    await refuse(413, 'rejected-too-large', RESOURCE_EXHAUSTED, tooLarge);
    return;
  }
  let body = read.body;
  if (contentEncoding === 'gzip') {
    const inflated = await inflate(body, ctx.settings.maxBodyBytes);
    if (inflated === 'too-large')
      return refuse(413, 'rejected-too-large', RESOURCE_EXHAUSTED, tooLarge);
    if (inflated === 'invalid')
      return refuse(
        400,
        'rejected-undecodable',
        INVALID_ARGUMENT,
        'Content-Encoding: gzip, but the body does not inflate',
      );
    body = inflated;
  }
  const decoded = decode(body, encoding);
  const logs =
    'error' in decoded
      ? decoded.error
      : readLogs(decoded.value, pathApp, now * 1000, ctx.settings.maxLineBytes);
  if (typeof logs === 'string') {
    await refuse(400, 'rejected-undecodable', INVALID_ARGUMENT, logs);
    return;
  }
  await store(ctx, logs, createHash('sha256').update(body).digest('hex'), encoding, res, pathApp);
}

async function store(
  ctx: DrainContext,
  logs: OtlpLogs,
  bodyHash: string,
  encoding: Encoding,
  res: RouteRequest['res'],
  /** The path's app, already admitted by otlpLogs. */
  held: string | null,
): Promise<void> {
  let rejected = logs.rejected;
  const reasons = [...logs.reasons];
  const reserved: string[] = [];
  const entered: string[] = [];
  try {
    const apps: string[] = [];
    for (const [app, lines] of logs.byApp) {
      if (app === held) {
        apps.push(app);
        continue;
      }
      const isNew = !(await ctx.store.hasApp(app));
      if (isNew && !ctx.limits.reserveNew(app, await ctx.store.appCount(), ctx.settings.maxApps)) {
        rejected += lines.counters['otlp-records'] ?? 0;
        reasons.push(
          `this drain already keeps ${ctx.settings.maxApps} apps (--max-apps): ${app} not kept`,
        );
        ctx.log({ at: 'warn', event: 'rejected', status: 200, app, reason: 'max-apps' });
        continue;
      }
      if (isNew) reserved.push(app);
      apps.push(app);
    }
    const now = Date.now();
    for (const app of apps) {
      const lines = logs.byApp.get(app)?.lines.length ?? 0;
      const admitted = app === held || ctx.limits.enter(app, now);
      if (admitted && app !== held) entered.push(app);
      const ok = admitted && ctx.limits.take(app, lines, now);
      if (!ok) {
        const wait = Math.max(1, ctx.limits.retryAfterSeconds(app, lines));
        ctx.log({ at: 'warn', event: 'rejected', status: 429, app, reason: 'rejected-rate' });
        await ctx.store.countRejected(app, 'rejected-rate', now).catch(() => {});
        fail(
          res,
          encoding,
          429,
          RESOURCE_EXHAUSTED,
          `${app} is over --app-rate lines per second or has too many requests at once`,
          { 'retry-after': String(wait) },
        );
        return;
      }
    }
    const stored: string[] = [];
    for (const app of apps) {
      const parsed = logs.byApp.get(app);
      if (parsed === undefined) continue;
      try {
        const result = await ctx.commits.ingest({
          app,
          frameId: `otlp:${bodyHash}`,
          token: null,
          receivedMs: Date.now(),
          lines: parsed.lines,
          platformErrors: parsed.platformErrors,
          counters: parsed.counters,
          samples: parsed.samples,
        });
        if (result.stored) stored.push(app);
      } catch (err) {
        ctx.log({ at: 'error', event: 'store-failed', app, error: (err as Error).message });
        fail(res, encoding, 503, UNAVAILABLE, 'the logs could not be stored; send them again', {
          'retry-after': '1',
        });
        return;
      }
    }
    succeed(res, encoding, rejected, reasons.join('; '));
    for (const app of stored)
      ctx.analyses.feed(app, logs.byApp.get(app)?.lines.map((l) => l.text) ?? []);
  } finally {
    for (const app of entered) ctx.limits.leave(app);
    for (const app of reserved) ctx.limits.releaseNew(app);
  }
}
