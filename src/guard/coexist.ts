/**
 * Coexisting with the app's own shutdown (Heroku's template, terminus, http-terminator,
 * close-with-grace, lightship, fastify.close()). While the guard drains after a signal:
 *
 * - `server.close(cb)` on a guarded server keeps the listener open through the late window
 *   and closes it when the guard does; `cb` runs when the server has closed, as in Node.
 * - `closeIdleConnections()` / `closeAllConnections()`, and `socket.end()` / `socket.destroy()`
 *   (no error) on an idle keep-alive socket, leave the socket to the guard, which closes it
 *   once it has been quiet (the race with a request the router is sending is what made
 *   H13s). When the app has its own handler for the signal, the same goes for a socket with a
 *   response in flight: it is closed after that response (`Connection: close`) or at the
 *   guard's deadline, instead of being cut by a library's shorter timeout.
 * - `process.exit(code)` returns to its caller; the process ends when the drain does, with
 *   that code. Ending it at once would cut every response still in flight.
 *
 * Outside a signal drain (normal running, a crash drain) everything passes through untouched.
 */

import http from 'node:http';
import type { Socket } from 'node:net';
import { EVENT } from '../core/guard-vocabulary.js';
import { liveRecord, registry, type ServerState, type SocketState } from './state.js';

export interface DrainView {
  readonly reason: 'shutdown' | 'crash';
  readonly appHandlesSignal: boolean;
  /** The exit line is written: the app's own exit passes through from now on. */
  readonly over: boolean;
  appExit(code: number): void;
}

type ServerStateOf = (server: http.Server) => ServerState | undefined;

let drainView: () => DrainView | null = () => null;
const realExit = process.exit;
let exitWrapped = false;

/** End the process, bypassing the deferral (the guard's own exit). */
export function exitNow(code: number): never {
  return realExit.call(process, code);
}

/** Called once, by the process guard, with a view of its drain. */
export function installCoexistence(view: () => DrainView | null): void {
  drainView = view;
  if (exitWrapped) return;
  exitWrapped = true;
  process.exit = function guardedExit(code?: number | string | null): never {
    const d = drainView();
    if (d === null || d.over || d.reason !== 'shutdown') return realExit.call(process, code);
    const n = Number(code ?? process.exitCode ?? 0);
    d.appExit(Number.isInteger(n) ? n : 1);
    // Returns to the caller on purpose: see the module comment.
    return undefined as never;
  } as typeof process.exit;
}

/** In a signal drain (not a crash, not over). */
function signalDrain(): DrainView | null {
  if (registry.phase !== 'draining') return null;
  const d = drainView();
  return d !== null && d.reason === 'shutdown' && !d.over ? d : null;
}

const noticed = new WeakSet<object>();

function notice(st: ServerState, what: string): void {
  if (noticed.has(st)) return;
  noticed.add(st);
  st.out.line(
    'info',
    {
      event: EVENT.app_close,
      desc: 'The app closed the server during the drain; the guard closes it when it would',
      call: what,
    },
    'app close deferred to the guard',
  );
}

/** Wrap http.Server's close methods once; they act only on guarded servers in a drain. */
export function wrapServerClose(stateOf: ServerStateOf): void {
  const proto = http.Server.prototype as unknown as Record<string, unknown>;
  if (proto.__h13CloseWrapped === true) return;
  Object.defineProperty(proto, '__h13CloseWrapped', { value: true });
  const close = http.Server.prototype.close;
  http.Server.prototype.close = function guardedClose(this: http.Server, ...args: unknown[]) {
    const st = stateOf(this);
    if (st === undefined || signalDrain() === null) return Reflect.apply(close, this, args);
    const cb = args[0] as ((err?: Error) => void) | undefined;
    notice(st, 'close');
    if (typeof cb === 'function') {
      if (st.closedDone) process.nextTick(cb);
      else this.once('close', () => cb());
    }
    return this;
  } as typeof close;
  for (const name of ['closeAllConnections', 'closeIdleConnections'] as const) {
    const original = http.Server.prototype[name];
    if (typeof original !== 'function') continue;
    http.Server.prototype[name] = function guardedCloseConnections(this: http.Server) {
      const st = stateOf(this);
      if (st === undefined || signalDrain() === null) return Reflect.apply(original, this, []);
      notice(st, name);
    };
  }
}

/**
 * Whether an end()/destroy() without an error on this socket is left to the guard: only in a
 * signal drain, never for the guard's own closes, a client that is gone or a bad request.
 */
export function deferClose(socket: Socket, s: SocketState): boolean {
  if (s.guardClosing || registry.phase !== 'draining') return false;
  const d = signalDrain();
  if (d === null) return false;
  if (socket.readableEnded || s.clientGone !== undefined || s.clientErrorSeen !== undefined)
    return false;
  const rec = liveRecord(s);
  if (rec === null) return true;
  // Finished but not yet closed: Node's own end after a Connection: close response.
  if (!rec.owed()) return false;
  // A response in flight: an app destroying it on purpose still gets the guard's 500, unless
  // the app is shutting down itself (a library's timeout cutting what it should drain).
  if (!d.appHandlesSignal) return false;
  if (!rec.res.headersSent) rec.res.shouldKeepAlive = false;
  return true;
}
