/**
 * Traces and metrics sent to the drain: not read. A telemetry drain added without
 * `--signals logs` sends all three signals (heroku/cli docs/telemetry.md: "[default: all]");
 * without a route of their own those requests would get the 401 every unknown path gets
 * (routes.ts), which reads as a wrong password. They get 404 with a google.rpc.Status that
 * says what to change instead; 404 is not one of the codes OTLP senders retry, so they stop.
 * Why the drain reads logs only: docs/drain.md, "Fir telemetry drains".
 */

import type { DrainContext, RouteRequest } from './context.js';
import { isAppName } from './context.js';
import { mediaType } from './ingest-formats.js';
import { fail, OTLP_JSON, OTLP_PROTOBUF } from './otlp-answer.js';

/** google.rpc.Code UNIMPLEMENTED. */
const UNIMPLEMENTED = 12;

export async function otlpSignalNotRead(
  ctx: DrainContext,
  { req, res, params }: RouteRequest,
): Promise<void> {
  // With an app in the path the captures are [APP, SIGNAL]; without, [SIGNAL].
  const app = params.length > 1 ? (params[0] ?? null) : null;
  const signal = params[params.length - 1] ?? '';
  const encoding =
    mediaType(req.headers['content-type']) === OTLP_PROTOBUF ? OTLP_PROTOBUF : OTLP_JSON;
  ctx.log({ at: 'warn', event: 'rejected', status: 404, app: app ?? '', reason: `otlp-${signal}` });
  if (app !== null && isAppName(app) && (await ctx.store.hasApp(app)))
    await ctx.store.countRejected(app, 'rejected-signal', Date.now()).catch(() => {});
  fail(
    res,
    encoding,
    404,
    UNIMPLEMENTED,
    `h13 drain reads the logs signal only, not ${signal}: heroku telemetry:update DRAIN_ID --signals logs`,
  );
}
