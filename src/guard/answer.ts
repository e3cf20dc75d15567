/**
 * Answering in the app's place: a complete response written straight to the socket, always
 * `Connection: close`, then the app's response object is made inert so its late writes
 * (a timer that fires after the guard answered) neither throw nor corrupt the connection.
 *
 * The response is written raw rather than through `res` because `res` may already be
 * half-destroyed (the app called res.destroy()) or belong to code that just crashed.
 */

import { type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { GuardCause } from '../core/guard-vocabulary.js';
import { headLeft } from './cut.js';
import { answeredLine } from './lines.js';
import type { RequestRecord } from './record.js';
import { stats } from './state.js';

const HEADS = new Map<number, string>();

function headFor(status: number): string {
  let head = HEADS.get(status);
  if (head === undefined) {
    const reason = STATUS_CODES[status] ?? 'Error';
    const body = `${status} ${reason}\n`;
    head =
      `HTTP/1.1 ${status} ${reason}\r\n` +
      'content-type: text/plain; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'connection: close\r\n' +
      'cache-control: no-store\r\n';
    HEADS.set(status, head);
    HEADS.set(-status, body);
  }
  return head;
}

/** A complete canned response; `id` is a validated request id or a UUID (header-safe). */
export function cannedResponse(status: number, id: string | undefined): string {
  const head = headFor(status);
  const body = HEADS.get(-status) as string;
  return `${head}${id === undefined ? '' : `x-request-id: ${id}\r\n`}\r\n${body}`;
}

/**
 * Whether bytes can still go out on this socket ahead of a response nobody started: no byte of
 * the response was handed to the socket (writeHead alone only assembles the head).
 */
export function canAnswer(socket: Socket, res: ServerResponse | null | undefined): boolean {
  return (
    !socket.destroyed &&
    socket.writable &&
    !socket.writableEnded &&
    (res === null || res === undefined || !headLeft(res))
  );
}

const returnThis = function (this: unknown) {
  return this;
};
const returnTrue = () => true;
const nothing = () => {};

function makeInert(res: ServerResponse): void {
  const r = res as unknown as Record<string, unknown>;
  r.writeHead = returnThis;
  r.setHeader = returnThis;
  r.setHeaders = returnThis;
  r.appendHeader = returnThis;
  r.removeHeader = nothing;
  r.flushHeaders = nothing;
  r.writeContinue = nothing;
  r.writeEarlyHints = nothing;
  r.write = returnTrue;
  r.end = function end(this: unknown, ...args: unknown[]) {
    const cb = args.find((a) => typeof a === 'function') as (() => void) | undefined;
    if (cb !== undefined) process.nextTick(cb);
    return this;
  };
}

/**
 * Write `status` for an owed request whose headers were not sent. `then` says what happens to
 * the socket: 'end' (FIN after the bytes) or 'keep' (the caller destroys it next).
 * Returns false when nothing could be written.
 */
export function answerFor(
  rec: RequestRecord,
  status: number,
  cause: GuardCause,
  stack: string | undefined,
  then: 'end' | 'keep',
): boolean {
  if (rec.answered !== 0 || !canAnswer(rec.socket, rec.res)) return false;
  const socket = rec.socket;
  while (socket.writableCorked > 0) socket.uncork();
  socket.write(cannedResponse(status, rec.server.options.requestId ? rec.id : undefined));
  if (then === 'end') socket.end();
  rec.answered = status;
  makeInert(rec.res);
  stats.answered++;
  answeredLine(rec.server.out, rec, status, cause, stack);
  return true;
}
