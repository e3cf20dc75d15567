/**
 * One record per request: its id, where it is, its steps. Reachable from the raw request
 * (a symbol property), and, when the `context` option is on, from anywhere in the request's
 * async work through AsyncLocalStorage.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
// The module's object, not the global: `performance` on globalThis is a getter in Node 20,
// looked up on every request.
import { performance } from 'node:perf_hooks';
import type { GuardCause, GuardReceived } from '../core/guard-vocabulary.js';
import type { LogfmtValue } from '../core/logfmt.js';
import { rawRequestId, requestIdFrom } from '../core/request-id.js';
import { idOfLine } from '../core/uuid.js';
import type { ServerState, SocketState } from './state.js';

export type StepFields = Readonly<Record<string, LogfmtValue>>;

export interface Step {
  readonly label: string;
  readonly fields: StepFields | undefined;
  /** Milliseconds since the request started. */
  readonly elapsed: number;
}

/** What the app can read about the request it is serving. */
export interface RequestInfo {
  readonly id: string;
  readonly method: string;
  readonly path: string;
  readonly route: string | undefined;
  readonly lastStep: string | undefined;
  readonly steps: readonly Step[];
  /** Milliseconds since the request started. */
  elapsed(): number;
}

export const kRecord = Symbol('h13.guard.record');

export class RequestRecord implements RequestInfo {
  // `declare` + assignments in the constructor: ES2022 class fields would define every field
  // once as undefined and then assign it again, on every request.
  /**
   * The request's own X-Request-Id when it passed the check, else ''. With the echo off
   * (`requestId: false`) the check waits until something reads `id`, which keeps it here.
   */
  declare givenId: string;
  /**
   * An id the guard made, as the two pieces of its echoed header line (uuid.ts), '' for a
   * given id: the echo joins them as they are, and `id` cuts the id out only when asked.
   */
  declare readonly lineHead: string;
  declare readonly lineTail: string;
  declare readonly req: IncomingMessage;
  declare readonly res: ServerResponse;
  declare readonly sock: SocketState;
  declare readonly started: number;
  declare lastStep: string | undefined;
  declare stepList: Step[] | null;
  declare routeSet: string | undefined;
  /** Status the guard answered on the app's behalf (0: it did not). */
  declare answered: number;
  /** Why the guard cut this response (shutdown deadline, crash), when it did. */
  declare cut: GuardCause | undefined;
  /** The socket's dispatched bytes when the request came (a plain field read). */
  declare bytesAtStart: number;
  /** Set by a cut: bytes of this response that left, and what the client got of it. */
  declare sentBytes: number | undefined;
  declare received: GuardReceived | undefined;

  constructor(
    givenId: string,
    lineHead: string,
    lineTail: string,
    req: IncomingMessage,
    res: ServerResponse,
    sock: SocketState,
    bytesAtStart: number,
  ) {
    this.givenId = givenId;
    this.lineHead = lineHead;
    this.lineTail = lineTail;
    this.req = req;
    this.res = res;
    this.sock = sock;
    this.started = performance.now();
    this.lastStep = undefined;
    this.stepList = null;
    this.routeSet = undefined;
    this.answered = 0;
    this.cut = undefined;
    this.bytesAtStart = bytesAtStart;
    this.sentBytes = undefined;
    this.received = undefined;
  }

  get id(): string {
    if (this.givenId !== '') return this.givenId;
    if (this.lineHead !== '') return idOfLine(this.lineHead, this.lineTail);
    this.givenId = requestIdFrom(rawRequestId(this.req.rawHeaders));
    return this.givenId;
  }

  get socket(): Socket {
    return this.req.socket;
  }

  get server(): ServerState {
    return this.sock.server;
  }

  get method(): string {
    return this.req.method ?? '';
  }

  get path(): string {
    return this.req.url ?? '';
  }

  /** The framework's route pattern when it exposes one on the raw request (Express). */
  get route(): string | undefined {
    if (this.routeSet !== undefined) return this.routeSet;
    const expressRoute = (this.req as { route?: { path?: unknown } }).route;
    return typeof expressRoute?.path === 'string' ? expressRoute.path : undefined;
  }

  get steps(): readonly Step[] {
    return this.stepList ?? [];
  }

  elapsed(): number {
    return Math.round(performance.now() - this.started);
  }

  /** Still owes a complete response. */
  owed(): boolean {
    return this.answered === 0 && !this.res.writableFinished;
  }
}

let storage: AsyncLocalStorage<RequestRecord> | undefined;

/** Created on first use, so apps that leave `context` off never pay for it. */
export function contextStorage(): AsyncLocalStorage<RequestRecord> {
  storage ??= new AsyncLocalStorage<RequestRecord>();
  return storage;
}

/** The record of the request whose async work is running (needs `context: true`). */
export function activeRecord(): RequestRecord | undefined {
  return storage?.getStore();
}

export function recordOf(req: IncomingMessage): RequestRecord | undefined {
  return (req as unknown as { [kRecord]?: RequestRecord })[kRecord];
}

export function attachRecord(req: IncomingMessage, record: RequestRecord): void {
  (req as unknown as { [kRecord]?: RequestRecord })[kRecord] = record;
}
