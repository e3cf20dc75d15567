/**
 * Guarding one http.Server: its `emit` is wrapped once, so the guard sees 'connection',
 * 'request', 'clientError' and 'timeout' before the app does, without adding listeners
 * (a clientError or timeout listener would change Node's behaviour) and without a lookup per
 * request. Wrapping emit is also what lets the request listener run inside
 * AsyncLocalStorage.run() when the `context` option is on.
 */

import type http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { isValidRequestId } from '../core/request-id.js';
import { batchHead, takeIdTail } from '../core/uuid.js';
import { answerFor } from './answer.js';
import { handleClientError } from './client-error.js';
import { wrapServerClose } from './coexist.js';
import { dispatched } from './cut.js';
import { trackSocket } from './detect.js';
import { installIdEcho } from './echo-id.js';
import { tuneKeepAlive } from './keep-alive.js';
import type { ResolvedOptions } from './options.js';
import { createOutput } from './output.js';
import { attachRecord, contextStorage, RequestRecord } from './record.js';
import { installRelease } from './release.js';
import { liveRecord, registry, type ServerState, socketState, stats } from './state.js';

const kGuarded = Symbol('h13.guard.server');

/** Errors thrown synchronously by a request listener, mapped to their request. */
const throwers = new WeakMap<object, RequestRecord>();

export function recordForError(err: unknown): RequestRecord | undefined {
  return typeof err === 'object' && err !== null ? throwers.get(err) : undefined;
}

export function serverStateOf(server: http.Server): ServerState | undefined {
  return (server as unknown as { [kGuarded]?: ServerState })[kGuarded];
}

export function guardServer(server: http.Server, options: ResolvedOptions): ServerState {
  const existing = serverStateOf(server);
  if (existing !== undefined) return existing;
  const emit = server.emit as ServerState['emit'];
  const st: ServerState = {
    server,
    options,
    out: createOutput(options.log),
    sockets: new Set<Socket>(),
    emit,
    // Echoed by the head-assembly wrapper when this Node has one, else by setHeader.
    setIdHeader: options.requestId && !installIdEcho(),
    closed: null,
    closedDone: false,
    keepAliveSet: undefined,
    warnedTimeouts: new Set(),
  };
  (server as unknown as { [kGuarded]: ServerState })[kGuarded] = st;
  registry.servers.add(st);
  server.once('close', () => {
    st.closedDone = true;
    registry.servers.delete(st);
  });
  wrapServerClose(serverStateOf);
  installRelease();
  tuneKeepAlive(st);
  server.emit = function guardedEmit(
    this: http.Server,
    event: string | symbol,
    a?: unknown,
    b?: unknown,
  ): boolean {
    switch (event) {
      case 'request':
      case 'checkContinue':
      case 'checkExpectation':
        return onRequest(st, this, event, a as IncomingMessage, b as ServerResponse);
      case 'connection':
        if (socketState(a as Socket) === undefined) trackSocket(st, a as Socket);
        tuneKeepAlive(st);
        break;
      case 'clientError':
        return handleClientError(st, this, a as Error, b as Socket);
      case 'timeout':
        if (answerTimeout(st, this, a as Socket)) return true;
        break;
    }
    // biome-ignore lint/complexity/noArguments: forwards every argument of any event as given
    return Reflect.apply(emit, this, arguments);
  } as http.Server['emit'];
  return st;
}

function onRequest(
  st: ServerState,
  server: http.Server,
  event: string,
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  const socket = req.socket;
  const s = socketState(socket) ?? trackSocket(st, socket);
  stats.requests++;
  const header = rawRequestId(req.rawHeaders);
  let idHead: string;
  let idTail = '';
  if (header !== undefined && isValidRequestId(header)) idHead = header;
  else {
    idTail = takeIdTail();
    idHead = batchHead();
  }
  const rec = new RequestRecord(idHead, idTail, req, res, s, dispatched(socket));
  if (st.setIdHeader) res.setHeader('x-request-id', rec.id);
  attachRecord(req, rec);
  s.current = rec;
  s.requests++;
  const phase = registry.phase;
  if (phase !== 'running') {
    if (phase !== 'draining') {
      // The process is going down after a crash: the app's state is undefined, so a late
      // request is answered 503 rather than run.
      answerFor(rec, 503, phase === 'crashing' ? 'crash' : 'shutdown', undefined, 'end');
      return true;
    }
    res.shouldKeepAlive = false;
  }
  if (st.options.context) return contextStorage().run(rec, callListeners, st, server, event, rec);
  return callListeners(st, server, event, rec);
}

/**
 * X-Request-Id from rawHeaders: reading req.headers would build Node's lazy headers object
 * on every request, which the bare server never pays for. A repeated header is invalid
 * (Node would join the values with ', '), so it gets a new id.
 */
function rawRequestId(raw: string[]): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    // Heroku's router spells it X-Request-Id: compared as is before lowercasing a copy.
    if (name.length === 12 && (name === 'X-Request-Id' || name.toLowerCase() === 'x-request-id')) {
      if (found !== undefined) return undefined;
      found = raw[i + 1];
    }
  }
  return found;
}

function callListeners(
  st: ServerState,
  server: http.Server,
  event: string,
  rec: RequestRecord,
): boolean {
  try {
    return st.emit.call(server, event, rec.req, rec.res);
  } catch (err) {
    if (typeof err === 'object' && err !== null) throwers.set(err, rec);
    throw err;
  }
}

/**
 * Node's socketOnTimeout emits req/res/server 'timeout' and destroys the socket when nobody
 * listens. With a response owed and nothing sent, the guard answers 503 instead.
 */
function answerTimeout(st: ServerState, server: http.Server, socket: Socket): boolean {
  if (!st.options.answer || server.listenerCount('timeout') > 0) return false;
  const s = socketState(socket);
  const rec = s === undefined ? null : liveRecord(s);
  if (rec === null || !rec.owed() || rec.res.headersSent) return false;
  if (rec.res.listenerCount('timeout') > 0) return false;
  if (!rec.req.complete && rec.req.listenerCount('timeout') > 0) return false;
  return answerFor(rec, 503, 'socket_timeout', undefined, 'end');
}
