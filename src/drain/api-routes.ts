/**
 * The JSON API: the apps and their counters, an app's diagnoses since a time (each in the
 * schema `h13 analyze --json` uses, built by src/analyze/report.ts's serializer), and a
 * request id followed through the diagnoses and the raw lines that carry it.
 */

import { DIAGNOSIS_SCHEMA } from '../analyze/report.js';
import { type DrainContext, isAppName, type RouteRequest } from './context.js';
import { COUNTERS } from './counters.js';
import { sendError, sendJson } from './http-io.js';

export const APPS_SCHEMA = 'h13.drain.apps/1';
export const REQUEST_SCHEMA = 'h13.drain.request/1';
const DEFAULT_LIMIT = 1000;
const MAX_LIMIT = 10_000;
const REQUEST_ID = /^[A-Za-z0-9+/=._-]{1,200}$/;

function limitFrom(query: URLSearchParams): number | null {
  const raw = query.get('limit');
  if (raw === null) return DEFAULT_LIMIT;
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_LIMIT) return null;
  return Number(raw);
}

export async function listApps(ctx: DrainContext, { res }: RouteRequest): Promise<void> {
  sendJson(res, 200, { schema: APPS_SCHEMA, counters: COUNTERS, apps: await ctx.store.apps() });
}

export async function appDiagnoses(
  ctx: DrainContext,
  { res, params, query }: RouteRequest,
): Promise<void> {
  const app = params[0] ?? '';
  if (!isAppName(app) || !(await ctx.store.hasApp(app))) {
    sendError(res, 404, `no app ${JSON.stringify(app)} has sent anything to this drain`);
    return;
  }
  const sinceText = query.get('since');
  const sinceMs = sinceText === null ? 0 : Date.parse(sinceText);
  if (Number.isNaN(sinceMs)) {
    sendError(res, 400, 'since must be an ISO 8601 time, such as 2026-03-02T10:15:00Z');
    return;
  }
  const limit = limitFrom(query);
  if (limit === null) {
    sendError(res, 400, `limit must be a number from 1 to ${MAX_LIMIT}`);
    return;
  }
  const diagnoses = await ctx.store.diagnoses(app, sinceMs * 1000, limit);
  sendJson(res, 200, {
    schema: DIAGNOSIS_SCHEMA,
    app,
    since: sinceText === null ? null : new Date(sinceMs).toISOString(),
    count: diagnoses.length,
    diagnoses,
  });
}

export async function followRequest(
  ctx: DrainContext,
  { res, params, query }: RouteRequest,
): Promise<void> {
  const id = params[0] ?? '';
  if (!REQUEST_ID.test(id)) {
    sendError(res, 400, 'a request id is 1-200 letters, digits and + / = . _ -');
    return;
  }
  const limit = limitFrom(query);
  if (limit === null) {
    sendError(res, 400, `limit must be a number from 1 to ${MAX_LIMIT}`);
    return;
  }
  const aroundText = query.get('around');
  const aroundMs = aroundText === null ? null : Date.parse(aroundText);
  if (aroundMs !== null && Number.isNaN(aroundMs)) {
    sendError(res, 400, 'around must be an ISO 8601 time, such as 2026-03-02T10:15:00Z');
    return;
  }
  const trail = await ctx.store.request({
    requestId: id,
    aroundMicros: aroundMs === null ? null : aroundMs * 1000,
    limit,
  });
  const found = trail.diagnoses.length > 0 || trail.lines.length > 0;
  sendJson(res, found ? 200 : 404, {
    schema: REQUEST_SCHEMA,
    diagnosisSchema: DIAGNOSIS_SCHEMA,
    ...trail,
  });
}
