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
import { type OtlpLogs, readLogs } from './otlp-records.js';
import { decodeLogsRequest, encodeLogsResponse, encodeStatus } from './otlp-schema.js';

export const OTLP_PROTOBUF = 'application/x-protobuf';
export const OTLP_JSON = 'application/json';

/** google.rpc.Code values used in error answers. */
const INVALID_ARGUMENT = 3;
const RESOURCE_EXHAUSTED = 8;
const UNAVAILABLE = 14;

type Encoding = typeof OTLP_PROTOBUF | typeof OTLP_JSON;

function answer(
  res: RouteRequest['res'],
  encoding: Encoding,
  status: number,
  body: { protobuf: Uint8Array; json: unknown },
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const bytes =
    encoding === OTLP_PROTOBUF
      ? Buffer.from(body.protobuf)
      : Buffer.from(`${JSON.stringify(body.json)}\n`);
  res.writeHead(status, {
    'content-type': encoding,
    'content-length': String(bytes.length),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(bytes);
}

/** An error answer: a google.rpc.Status; the connection closes when the body was not read. */
function fail(
  res: RouteRequest['res'],
  encoding: Encoding,
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  answer(
    res,
    encoding,
    status,
    { protobuf: encodeStatus(code, message), json: { code, message } },
    {
      connection: 'close',
      ...headers,
    },
  );
}

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
    // Deep nesting overflows the decoders' recursion: a RangeError, refused like any other.
    return {
      error: `the body is not ${encoding === OTLP_PROTOBUF ? 'protobuf' : 'JSON'} of an ExportLogsServiceRequest: ${(err as Error).message.slice(0, 200)}`,
    };
  }
}

export async function otlpLogs(
  ctx: DrainContext,
  { req, res, params }: RouteRequest,
): Promise<void> {
  const pathApp = params[0] ?? null;
  const now = Date.now();
  const type = mediaType(req.headers['content-type']);
  // Answers are in the request's encoding; to a type it does not read, in JSON.
  const encoding: Encoding = type === OTLP_PROTOBUF ? OTLP_PROTOBUF : OTLP_JSON;
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
  if (pathApp !== null && !isAppName(pathApp)) {
    fail(
      res,
      encoding,
      400,
      INVALID_ARGUMENT,
      'the app name in the path must be 1-100 letters, digits, ".", "_" or "-"',
    );
    return;
  }
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
  await store(ctx, logs, createHash('sha256').update(body).digest('hex'), encoding, res);
}

async function store(
  ctx: DrainContext,
  logs: OtlpLogs,
  bodyHash: string,
  encoding: Encoding,
  res: RouteRequest['res'],
): Promise<void> {
  let rejected = logs.rejected;
  const reasons = [...logs.reasons];
  const reserved: string[] = [];
  const entered: string[] = [];
  try {
    const apps: string[] = [];
    for (const [app, lines] of logs.byApp) {
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
      const admitted = ctx.limits.enter(app, now);
      if (admitted) entered.push(app);
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
    const message = reasons.join('; ');
    answer(res, encoding, 200, {
      protobuf: encodeLogsResponse(rejected, message),
      json:
        rejected > 0
          ? { partialSuccess: { rejectedLogRecords: String(rejected), errorMessage: message } }
          : {},
    });
    for (const app of stored)
      ctx.analyses.feed(app, logs.byApp.get(app)?.lines.map((l) => l.text) ?? []);
  } finally {
    for (const app of entered) ctx.limits.leave(app);
    for (const app of reserved) ctx.limits.releaseNew(app);
  }
}
