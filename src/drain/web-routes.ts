/**
 * The web page's routes: login and logout, the pages (drawn by web-pages.ts), their two
 * files, and the live event stream. Every page answer carries a strict
 * Content-Security-Policy: script and style only from this origin (the two files), no inline
 * script, no frames, forms only to this origin; a logged `<script>` that escaped escaping
 * would still not run.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeHtml as e } from '../core/html.js';
import { authorized } from './auth.js';
import { sendThrottled } from './auth-throttle.js';
import { type DrainContext, isAppName, type RouteRequest } from './context.js';
import { readBody, sendError } from './http-io.js';
import {
  cookieValue,
  hasSession,
  newSession,
  readSession,
  SESSION_COOKIE,
  sameOrigin,
  sessionCookie,
} from './session.js';
import { WEB_CSS, WEB_JS } from './web-assets.js';
import {
  appPage,
  appsPage,
  diagnosisPage,
  loginPage,
  messagePage,
  requestPage,
} from './web-pages.js';

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const PAGE_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // same-origin, not no-referrer: with no-referrer a browser's form POST says `Origin: null`.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

/** Minutes of counts the app page draws. */
const PAGE_MINUTES = 60;
const LATEST = 50;
const PLATFORM_LINES = 20;
const LOGIN_BODY_BYTES = 4096;
const REQUEST_ID = /^[A-Za-z0-9+/=._-]{1,200}$/;
const DIAGNOSIS_KEY = /^[A-Za-z0-9_-]{1,100}$/;

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'content-type': type,
    'content-length': String(Buffer.byteLength(body)),
    ...PAGE_HEADERS,
    ...headers,
  });
  res.end(body);
}

const sendHtml = (res: ServerResponse, status: number, html: string, headers = {}) =>
  send(res, status, 'text/html; charset=utf-8', html, headers);

function redirect(res: ServerResponse, to: string, headers: Record<string, string> = {}): void {
  send(res, 303, 'text/plain; charset=utf-8', `see ${to}\n`, { location: to, ...headers });
}

/** Where to go after logging in: a path of this site only (never `//host` or a scheme). */
export function safeNext(next: string | null): string {
  if (next === null || next.length > 500) return '/';
  return /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : '/';
}

/**
 * No session on a page: the browser is sent to the login form, which brings it back. A link
 * followed from another site (a chat message) arrives without the SameSite=Strict cookie even
 * when the browser has one; such a request first gets a page that loads the same URL again
 * from this site (a meta refresh, no script), which carries the cookie if there is one.
 */
export function toLogin(req: IncomingMessage, res: ServerResponse, pathAndQuery: string): void {
  const target = safeNext(pathAndQuery);
  if (req.headers['sec-fetch-site'] === 'cross-site') {
    const href = e(target);
    sendHtml(
      res,
      200,
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${href}"><title>h13 drain</title></head><body><p><a href="${href}">Continue to the h13 drain</a></p></body></html>\n`,
    );
    return;
  }
  redirect(res, `/login?next=${encodeURIComponent(target)}`);
}

export async function loginForm(ctx: DrainContext, { req, res, query }: RouteRequest) {
  const next = safeNext(query.get('next'));
  if (await hasSession(ctx.web.session, req)) return redirect(res, next);
  sendHtml(res, 200, loginPage({ failed: false, next }));
}

export async function login(ctx: DrainContext, { req, res }: RouteRequest) {
  if (!sameOrigin(req)) {
    ctx.log({ at: 'warn', event: 'rejected', status: 403, path: '/login', reason: 'cross-site' });
    return sendError(res, 403, "log in from the drain's own login page", { close: true });
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded')
    return sendError(res, 415, 'the login form posts application/x-www-form-urlencoded', {
      close: true,
    });
  const body = await readBody(req, LOGIN_BODY_BYTES);
  if (body.kind !== 'ok')
    return sendError(res, 413, 'the login form is larger than a login', { close: true });
  const throttle = ctx.web.logins;
  const client = throttle.clientOf(req);
  const verdict = throttle.check(client);
  if (verdict !== 'ok') {
    ctx.log({ at: 'warn', event: 'rejected', status: 429, path: '/login', reason: verdict });
    return sendThrottled(res, throttle, verdict);
  }
  const form = new URLSearchParams(body.body.toString('utf8'));
  const next = safeNext(form.get('next'));
  const basic = `Basic ${Buffer.from(`${form.get('user') ?? ''}:${form.get('password') ?? ''}`).toString('base64')}`;
  if (!authorized(basic, ctx.credential, 'basic')) {
    throttle.fail(client, basic);
    ctx.log({ at: 'warn', event: 'login-failed' });
    return sendHtml(res, 401, loginPage({ failed: true, next }));
  }
  throttle.succeed(client);
  const keys = ctx.web.session;
  redirect(res, next, { 'set-cookie': sessionCookie(req, newSession(keys), keys.ttlMs) });
}

export async function logout(ctx: DrainContext, { req, res }: RouteRequest) {
  if (!sameOrigin(req))
    return sendError(res, 403, "log out from the drain's own page", { close: true });
  // The cookie is removed from this browser, and the session it carries ends for any copy.
  const session = readSession(ctx.web.session, cookieValue(req.headers.cookie, SESSION_COOKIE));
  if (session !== null) await ctx.web.ends.end(session);
  redirect(res, '/login', { 'set-cookie': sessionCookie(req, '', 0) });
  ctx.log({ at: 'info', event: 'logout' });
}

export async function styleFile(_ctx: DrainContext, { res }: RouteRequest) {
  send(res, 200, 'text/css; charset=utf-8', WEB_CSS, { 'cache-control': 'no-cache' });
}

export async function scriptFile(_ctx: DrainContext, { res }: RouteRequest) {
  send(res, 200, 'text/javascript; charset=utf-8', WEB_JS, { 'cache-control': 'no-cache' });
}

export async function appsView(ctx: DrainContext, { res }: RouteRequest) {
  sendHtml(res, 200, appsPage(await ctx.store.apps()));
}

async function knownApp(ctx: DrainContext, res: ServerResponse, app: string): Promise<boolean> {
  if (isAppName(app) && (await ctx.store.hasApp(app))) return true;
  sendHtml(res, 404, messagePage('Not found', 'No such app has sent anything to this drain.'));
  return false;
}

export async function appView(ctx: DrainContext, { res, params }: RouteRequest) {
  const app = params[0] ?? '';
  if (!(await knownApp(ctx, res, app))) return;
  const [counts, latest, platform] = await Promise.all([
    ctx.store.appCounts(app, PAGE_MINUTES),
    ctx.store.latestDiagnoses(app, LATEST),
    ctx.store.recentPlatformErrors(app, PLATFORM_LINES),
  ]);
  sendHtml(
    res,
    200,
    appPage({
      app,
      endMinute: counts.endMinute,
      minutes: PAGE_MINUTES,
      rows: counts.rows,
      latest,
      platform,
    }),
  );
}

export async function diagnosisView(ctx: DrainContext, { res, params }: RouteRequest) {
  const app = params[0] ?? '';
  const key = params[1] ?? '';
  if (!(await knownApp(ctx, res, app))) return;
  const found = DIAGNOSIS_KEY.test(key) ? await ctx.store.diagnosisByKey(app, key) : undefined;
  if (found === undefined)
    return sendHtml(
      res,
      404,
      messagePage('Not found', 'No such diagnosis (it may be past the retention).'),
    );
  sendHtml(res, 200, diagnosisPage(found));
}

export async function requestView(ctx: DrainContext, { res, query }: RouteRequest) {
  const id = (query.get('id') ?? '').trim();
  if (id === '') return sendHtml(res, 200, requestPage('', null, null));
  if (!REQUEST_ID.test(id))
    return sendHtml(
      res,
      400,
      requestPage(id, null, 'A request id is 1-200 letters, digits and + / = . _ -'),
    );
  const trail = await ctx.store.request({ requestId: id, aroundMicros: null, limit: 1000 });
  sendHtml(res, 200, requestPage(id, trail, null));
}

export async function events(ctx: DrainContext, { req, res, query }: RouteRequest) {
  const app = query.get('app');
  if (app !== null && !isAppName(app)) return sendError(res, 400, 'not an app name');
  // A stream opened with the cookie ends with its session (session-ends.ts). One ended
  // between the route's check and here is refused.
  const keys = ctx.web.session;
  const session = readSession(keys, cookieValue(req.headers.cookie, SESSION_COOKIE));
  if (session !== null && keys.revoked.has(session.nonce))
    return sendError(res, 401, 'log in first', { close: true });
  if (!ctx.web.live.subscribe(res, app, session)) {
    ctx.log({ at: 'warn', event: 'rejected', status: 503, path: '/events', reason: 'subscribers' });
    sendError(res, 503, 'too many pages are following live events (--max-subscribers)', {
      headers: { 'retry-after': '30' },
    });
  }
}
