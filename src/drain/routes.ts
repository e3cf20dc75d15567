/**
 * Every HTTP route of `h13 drain`, as data: method, path pattern, who may call it, handler.
 * Nothing is open: a request without the credential gets 401 whatever its path, so an
 * unauthenticated caller cannot even tell which paths exist.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { appDiagnoses, followRequest, listApps } from './api-routes.js';
import type { AuthScheme } from './auth.js';
import { checkCredential, sendThrottled } from './auth-throttle.js';
import type { DrainContext, RouteRequest } from './context.js';
import { sendError } from './http-io.js';
import { LOGPLEX_FORMAT, TEXT_FORMAT } from './ingest-formats.js';
import { ingest } from './ingest-route.js';
import { otlpSignalNotRead } from './otlp-other-signals.js';
import { otlpLogs } from './otlp-route.js';
import { crossSite, hasSession } from './session.js';
import {
  appsView,
  appView,
  diagnosisView,
  events,
  login,
  loginForm,
  logout,
  requestView,
  scriptFile,
  styleFile,
  toLogin,
} from './web-routes.js';

/**
 * Who may call a route: `basic` and `basic-or-bearer` as for drains and scripts; `session`
 * for the web page: its login cookie (or Basic, for curl), a GET without one sent to the
 * login form; `public` only for the login form and the two files it needs, which hold no data.
 */
export type RouteAuth = AuthScheme | 'session' | 'public';

export interface Route {
  readonly method: 'GET' | 'POST';
  /** Matched against the decoded path; captures become `params`. */
  readonly path: RegExp;
  readonly auth: RouteAuth;
  readonly what: string;
  /** Names of the path's captures, for the docs. */
  readonly params?: readonly string[];
  readonly handle: (ctx: DrainContext, r: RouteRequest) => Promise<void>;
}

export const ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: /^\/drain\/([^/]+)$/,
    auth: 'basic',
    what: 'logplex HTTPS drain (application/logplex-1) for app APP',
    handle: (ctx, r) => ingest(ctx, LOGPLEX_FORMAT, r),
  },
  {
    method: 'POST',
    path: /^\/ingest\/([^/]+)$/,
    auth: 'basic',
    what: '`heroku logs` text (one line per \\n) for app APP',
    handle: (ctx, r) => ingest(ctx, TEXT_FORMAT, r),
  },
  {
    method: 'POST',
    path: /^\/otlp\/([^/]+)\/v1\/logs$/,
    auth: 'basic-or-bearer',
    what: 'Fir telemetry drain: OTLP/HTTP logs (application/x-protobuf or application/json, gzip or not), every record for app APP',
    handle: otlpLogs,
  },
  {
    method: 'POST',
    path: /^\/v1\/logs$/,
    auth: 'basic-or-bearer',
    what: 'Fir telemetry drain: OTLP/HTTP logs, each record for the app its heroku.app.name or service.name attribute names',
    handle: otlpLogs,
  },
  {
    method: 'POST',
    path: /^\/otlp\/([^/]+)\/v1\/(traces|metrics)$/,
    auth: 'basic-or-bearer',
    what: 'Fir telemetry drain: traces and metrics are not read; 404 saying to add the drain with --signals logs',
    handle: otlpSignalNotRead,
  },
  {
    method: 'POST',
    path: /^\/v1\/(traces|metrics)$/,
    auth: 'basic-or-bearer',
    what: 'the same, for a drain without an app in its path',
    handle: otlpSignalNotRead,
  },
  {
    method: 'GET',
    path: /^\/api\/apps$/,
    auth: 'basic-or-bearer',
    what: 'the apps, their counters, bad-input samples, diagnoses and platform errors by code',
    handle: listApps,
  },
  {
    method: 'GET',
    path: /^\/api\/apps\/([^/]+)\/diagnoses$/,
    auth: 'basic-or-bearer',
    what: "an app's diagnoses (?since=ISO time of the router line, &limit=N)",
    handle: appDiagnoses,
  },
  {
    method: 'GET',
    path: /^\/api\/requests\/([^/]+)$/,
    auth: 'basic-or-bearer',
    what: 'the diagnoses that carry a request id, and the raw lines that contain it within 2 min of each (or of ?around=ISO; else among the latest 200 000 lines)',
    handle: followRequest,
  },
  {
    method: 'GET',
    path: /^\/$/,
    auth: 'session',
    what: 'web page: the apps',
    handle: appsView,
  },
  {
    method: 'GET',
    path: /^\/apps\/([^/]+)$/,
    auth: 'session',
    what: "web page: an app's codes and platform errors over time with the error rate, causes and routes ranked, the latest diagnoses with evidence and fix",
    params: ['APP'],
    handle: appView,
  },
  {
    method: 'GET',
    path: /^\/apps\/([^/]+)\/diagnoses\/([^/]+)$/,
    auth: 'session',
    what: 'web page: one diagnosis (KEY as linked from the app page)',
    params: ['APP', 'KEY'],
    handle: diagnosisView,
  },
  {
    method: 'GET',
    path: /^\/requests$/,
    auth: 'session',
    what: 'web page: follow a request id (?id=REQUEST_ID)',
    handle: requestView,
  },
  {
    method: 'GET',
    path: /^\/events$/,
    auth: 'session',
    what: 'live diagnoses as Server-Sent Events (?app=APP for one app)',
    handle: events,
  },
  {
    method: 'GET',
    path: /^\/login$/,
    auth: 'public',
    what: 'the login form',
    handle: loginForm,
  },
  {
    method: 'POST',
    path: /^\/login$/,
    auth: 'public',
    what: 'log in (form: user, password); same-origin only; sets the session cookie',
    handle: login,
  },
  {
    method: 'POST',
    path: /^\/logout$/,
    auth: 'session',
    what: 'log out (needs the session cookie itself and a same-origin request); clears the cookie',
    handle: logout,
  },
  {
    method: 'GET',
    path: /^\/web\/style\.css$/,
    auth: 'public',
    what: "the pages' stylesheet (the HTML report's)",
    handle: styleFile,
  },
  {
    method: 'GET',
    path: /^\/web\/app\.js$/,
    auth: 'public',
    what: "the pages' script (live updates)",
    handle: scriptFile,
  },
];

const WWW_AUTHENTICATE = { 'www-authenticate': 'Basic realm="h13 drain", charset="UTF-8"' };

export async function dispatch(
  ctx: DrainContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let url: URL;
  let path: string;
  try {
    url = new URL(req.url ?? '/', 'http://drain.invalid');
    path = decodeURIComponent(url.pathname);
  } catch {
    sendError(res, 400, 'the request target is not a valid path', { close: true });
    return;
  }
  const matches = ROUTES.map((route) => ({ route, m: route.path.exec(path) })).filter(
    (x) => x.m !== null,
  );
  const kinds = new Set(matches.map((x) => x.route.auth));
  if (kinds.size === 1 && kinds.has('public')) {
    // The login form and its files: nothing to guard.
  } else if (kinds.size > 0 && [...kinds].every((k) => k === 'session' || k === 'public')) {
    // A page: the session cookie, or Basic (curl). Logout needs the cookie itself.
    const basic =
      req.method === 'POST'
        ? 'missing'
        : checkCredential(ctx.web.logins, req, ctx.credential, 'basic');
    if (basic === 'client-limit' || basic === 'global-limit') {
      sendThrottled(res, ctx.web.logins, basic);
      return;
    }
    if (basic !== 'ok' && !(await hasSession(ctx.web.session, req))) {
      if (req.method === 'GET') {
        toLogin(req, res, `${url.pathname}${url.search}`);
        return;
      }
      sendError(res, 401, 'log in first', { close: true });
      return;
    }
  } else {
    const scheme: AuthScheme =
      matches.every((x) => x.route.auth === 'basic-or-bearer') && matches.length > 0
        ? 'basic-or-bearer'
        : 'basic';
    const outcome = checkCredential(ctx.web.logins, req, ctx.credential, scheme);
    if (outcome === 'client-limit' || outcome === 'global-limit') {
      ctx.log({ at: 'warn', event: 'rejected', status: 429, path: url.pathname, reason: outcome });
      sendThrottled(res, ctx.web.logins, outcome);
      return;
    }
    if (outcome !== 'ok') {
      ctx.log({
        at: 'warn',
        event: 'rejected',
        status: 401,
        method: req.method,
        path: url.pathname,
      });
      sendError(res, 401, 'the drain needs its credential (HTTP Basic, or Bearer for /api)', {
        close: true,
        headers: WWW_AUTHENTICATE,
      });
      return;
    }
    // Reads stay open to a link followed from elsewhere: no other site can read the answer.
    if (req.method !== 'GET' && req.method !== 'HEAD' && crossSite(req)) {
      ctx.log({
        at: 'warn',
        event: 'rejected',
        status: 403,
        method: req.method,
        path: url.pathname,
        reason: 'cross-site',
      });
      sendError(res, 403, 'a request sent by another site is refused (no browser sends drains)', {
        close: true,
      });
      return;
    }
  }
  const hit = matches.find((x) => x.route.method === req.method);
  if (hit === undefined) {
    if (matches.length > 0) {
      const allow = [...new Set(matches.map((x) => x.route.method))].join(', ');
      sendError(res, 405, `use ${allow}`, { close: true, headers: { allow } });
    } else sendError(res, 404, 'no such route', { close: true });
    return;
  }
  await hit.route.handle(ctx, {
    req,
    res,
    params: (hit.m as RegExpExecArray).slice(1),
    query: url.searchParams,
  });
}
