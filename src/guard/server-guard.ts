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
import { isValidRequestId, rawRequestId } from '../core/request-id.js';
import { idLineHead, takeIdLineTail } from '../core/uuid.js';
import { answerFor } from './answer.js';
import { handleClientError } from './client-error.js';
import { wrapServerClose } from './coexist.js';
import { dispatched } from './cut.js';
import { trackSocket } from './detect.js';
import { canCallDirectly, singleListener } from './direct-call.js';
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
    direct: canCallDirectly(server, emit),
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
  let givenId = '';
  let lineHead = '';
  let lineTail = '';
  // Without the echo nothing needs the id until a line or the app reads it (record.ts).
  if (st.options.requestId) {
    const header = rawRequestId(req.rawHeaders);
    if (header !== undefined && isValidRequestId(header)) givenId = header;
    else {
      lineTail = takeIdLineTail();
      lineHead = idLineHead();
    }
  }
  const rec = new RequestRecord(givenId, lineHead, lineTail, req, res, s, dispatched(socket));
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

function callListeners(
  st: ServerState,
  server: http.Server,
  event: string,
  rec: RequestRecord,
): boolean {
  try {
    const listener = st.direct ? singleListener(server, event) : undefined;
    if (listener === undefined) return st.emit.call(server, event, rec.req, rec.res);
    // What Node's emit returns for an event with a listener; the listener's own result only
    // matters to emit when the server captures rejections, and then `direct` is false.
    listener.call(server, rec.req, rec.res);
    return true;
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
