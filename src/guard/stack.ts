/**
 * Stacks, taken only on the rare path (a destroy while a response is owed, a crash): who
 * called destroy(), reduced to the app's top frames, and what Node machinery did it.
 */

import { fileURLToPath } from 'node:url';
import { CAUSE, type GuardCause } from '../core/guard-vocabulary.js';

const GUARD_DIR = fileURLToPath(new URL('.', import.meta.url));
const CWD = `${process.cwd()}/`;
const FRAME = /^\s*at (.*)$/;

/**
 * Record the call stack above `above` without formatting it: V8 formats `.stack` lazily, so
 * the cost of formatting is paid only if the line is written.
 */
export function captureStack(above: (...args: never[]) => unknown): Error {
  const holder = new Error('destroy');
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  Error.captureStackTrace(holder, above);
  Error.stackTraceLimit = limit;
  return holder;
}

/** Node internals whose presence in a destroy() stack names the cause. */
const INTERNAL_CAUSES: ReadonlyArray<readonly [string, GuardCause]> = [
  ['socketOnTimeout', 'socket_timeout'],
  ['onRequestTimeout', 'request_timeout'],
  ['checkConnections', 'request_timeout'],
  ['closeAllConnections', 'server_close'],
  ['closeIdleConnections', 'server_close'],
  ['onParserExecuteCommon', 'connect_unhandled'],
  ['socketOnError', 'client_error'],
];

function frameLines(stack: string | undefined): string[] {
  if (stack === undefined) return [];
  const out: string[] = [];
  for (const line of stack.split('\n')) {
    const m = FRAME.exec(line);
    if (m !== null) out.push(m[1] as string);
  }
  return out;
}

export function causeFromStack(holder: Error): GuardCause {
  const frames = frameLines(holder.stack);
  for (const frame of frames) {
    for (const [name, cause] of INTERNAL_CAUSES) if (frame.includes(name)) return cause;
  }
  return CAUSE.app_destroy;
}

function shorten(frame: string): string {
  return frame.replaceAll('file://', '').replaceAll(CWD, '');
}

/**
 * The top `count` frames outside Node's internals and the guard itself, joined with ' < '
 * (callee < caller). Falls back to all frames when the app has none (a Node-internal close).
 */
export function topFrames(holder: Error, count: number): string {
  const frames = frameLines(holder.stack);
  const app = frames.filter(
    (f) => !f.includes('node:') && !f.includes(GUARD_DIR) && !f.includes('(<anonymous>)'),
  );
  const chosen = (app.length > 0 ? app : frames).slice(0, count);
  return chosen.map(shorten).join(' < ');
}

/** An error's own stack, reduced the same way, for crash lines. */
export function errorFrames(err: unknown, count: number): string | undefined {
  if (!(err instanceof Error) || err.stack === undefined) return undefined;
  const frames = frameLines(err.stack);
  if (frames.length === 0) return undefined;
  return frames.slice(0, count).map(shorten).join(' < ');
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  try {
    return `non-error thrown: ${typeof err === 'string' ? err : JSON.stringify(err)}`;
  } catch {
    return `non-error thrown: ${String(err)}`;
  }
}
