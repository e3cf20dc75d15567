/**
 * h13/guard: `guard(server)` removes the causes of "closed without response" it can and
 * writes one line for every request that still ends without a complete response.
 *
 *   import { guard } from 'h13/guard';
 *   guard(http.createServer(app)).listen(process.env.PORT);
 */

import type http from 'node:http';
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { H13Error } from '../core/errors.js';
import { EVENT } from '../core/guard-vocabulary.js';
import { stepLine } from './lines.js';
import { guardEveryListen, preloadedAs } from './listen-patch.js';
import { type GuardOptions, optionsFromEnv, resolveOptions } from './options.js';
import { installProcessGuard } from './process-guard.js';
import {
  activeRecord,
  type RequestInfo,
  type RequestRecord,
  recordOf,
  type StepFields,
} from './record.js';
import { guardServer, serverStateOf } from './server-guard.js';
import { type GuardStats, snapshotStats } from './state.js';

export type {
  GuardLog,
  GuardLogger,
  GuardOptions,
  GuardSignal,
  KeepAliveProfile,
  StepMode,
} from './options.js';
export { DEFAULTS, KEEP_ALIVE_PROFILES } from './options.js';
export { onShutdown, type ShutdownHook, shutdown } from './process-guard.js';
export type { RequestInfo, Step, StepFields } from './record.js';
export type { GuardStats } from './state.js';

function checkServer(server: unknown): asserts server is http.Server {
  if (server instanceof net.Server && typeof (server as http.Server).setTimeout === 'function')
    return;
  let hint = '';
  if (typeof server === 'function')
    hint = ' (an Express/Koa app? pass the server: guard(app.listen(port)))';
  else if (typeof server === 'object' && server !== null && 'server' in server)
    hint = ' (a Fastify instance? pass guard(app.server))';
  throw new H13Error('H13_ERR_INVALID_OPTION', `guard(server): expected an http.Server${hint}`, {
    field: 'server',
  });
}

/**
 * Guard an http.Server (returned as is, for chaining). The first call also installs the
 * process-wide handlers (signals, crashes) with its options; guarding twice is a no-op.
 */
export function guard<S extends http.Server>(server: S, options?: GuardOptions): S {
  checkServer(server);
  if (serverStateOf(server) !== undefined) return server;
  const resolved = resolveOptions(options);
  const st = guardServer(server, resolved);
  installProcessGuard(st);
  return server;
}

export function isGuarded(server: http.Server): boolean {
  return serverStateOf(server) !== undefined;
}

/** The id of the request whose async work is running (needs `context: true`). */
export function requestId(): string | undefined {
  return activeRecord()?.id;
}

/** The request whose async work is running (needs `context: true`). */
export function currentRequest(): RequestInfo | undefined {
  return activeRecord();
}

/** The guard's view of a raw request (its id, steps), with or without `context`. */
export function requestInfo(req: http.IncomingMessage): RequestInfo | undefined {
  return recordOf(req);
}

function addStep(rec: RequestRecord, label: string, fields: StepFields | undefined): void {
  const options = rec.server.options;
  if (options.steps === 'off') return;
  const text = typeof label === 'string' ? label : String(label);
  rec.lastStep = text;
  const entry = { label: text, fields, elapsed: rec.elapsed() };
  if (options.steps === 'live') {
    stepLine(rec.server.out, rec, entry);
    return;
  }
  rec.stepList ??= [];
  rec.stepList.push(entry);
  if (rec.stepList.length > options.maxSteps) rec.stepList.shift();
}

/**
 * Record a breadcrumb for the current request (needs `context: true`); the last one is on the
 * request's failure line. Returns false when no request is current.
 */
export function step(label: string, fields?: StepFields): boolean {
  const rec = activeRecord();
  if (rec === undefined) return false;
  addStep(rec, label, fields);
  return true;
}

/** Record a breadcrumb for a given raw request (works without `context`). */
export function stepFor(req: http.IncomingMessage, label: string, fields?: StepFields): boolean {
  const rec = recordOf(req);
  if (rec === undefined) return false;
  addStep(rec, label, fields);
  return true;
}

/**
 * Name the route of a raw request, for frameworks that keep it off the raw request
 * (Fastify: request.routeOptions.url; Koa: ctx._matchedRoute). Express needs nothing.
 */
export function setRoute(req: http.IncomingMessage, route: string | undefined): void {
  const rec = recordOf(req);
  if (rec !== undefined && typeof route === 'string') rec.routeSet = route;
}

/** Counters since the process started: requests, H13/H18, client aborts, answers. */
export function guardStats(): GuardStats {
  return snapshotStats();
}

// `node --import h13/guard app.js` (meant: h13/register) would load this module and guard
// nothing. It guards, as h13/register does, and says so once.
if (preloadedAs(import.meta.url, pathToFileURL(`${process.cwd()}/`).href)) {
  const options = optionsFromEnv(process.env);
  resolveOptions(options);
  guardEveryListen(guard, isGuarded, options);
  process.stderr.write(
    `at=warning event=${EVENT.import_guard} desc="--import h13/guard: guarding every server as --import h13/register does (use h13/register)"\n`,
  );
}
