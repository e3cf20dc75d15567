/**
 * Calling a server's one `request` listener the way Node's own emit would, without emit.
 *
 * Unguarded, V8 inlines EventEmitter.prototype.emit into Node's parserOnIncoming. Once the
 * guard's emit wrapper sits in between, Node's emit runs as a call of its own on every
 * request (docs/guard.md, "Thirteenth session"). For one listener, emit does nothing more than
 * call it with the server as `this` and, only when the emitter captures rejections, attach a
 * catch to a returned promise. So the guard calls the listener itself when that is all emit
 * would do, and leaves everything else to emit:
 * - several listeners (emit copies the array and guards it while they run);
 * - an emit that is not Node's own (an APM agent's wrapper, the `domain` module's);
 * - `captureRejections` (a rejected promise from the listener becomes the server's 'error');
 * - a process that uses domains (emit enters the emitter's domain).
 * These are decided once per server, when the guard wraps its emit: Node sets
 * captureRejections when the emitter is constructed. A domain the app attaches later
 * (`domain.add(server)`) was not seen before this path existed either, since the emit the
 * guard calls was captured at that moment; domains are deprecated (DEP0032).
 */

import { EventEmitter } from 'node:events';
import type http from 'node:http';
import { nodeSymbol } from './node-symbol.js';

const nodeEmit = EventEmitter.prototype.emit;

/**
 * Whether `emit` is Node's own and not a wrapper installed before this module loaded (an
 * agent that patched EventEmitter.prototype.emit, or the `domain` module's): Node's builtins
 * keep their source text, and a wrapper's differs. Anything unrecognised goes through emit.
 */
const nodeEmitIsOwn = (() => {
  const source = Function.prototype.toString.call(nodeEmit);
  return source.startsWith('function emit(type, ...args) {') && source.includes('kErrorMonitor');
})();

/** An emitter's captureRejections; a Node that names it differently gets no direct calls. */
const kCapture = nodeSymbol(new EventEmitter({ captureRejections: true }), 'kCapture');

type Events = Record<string | symbol, unknown>;

/** Whether calling the listener directly is exactly what `emit` would do for this server. */
export function canCallDirectly(server: http.Server, emit: unknown): boolean {
  if (emit !== nodeEmit || !nodeEmitIsOwn || kCapture === undefined) return false;
  if ((EventEmitter as { usingDomains?: unknown }).usingDomains !== false) return false;
  const own = server as unknown as { [kCapture]?: unknown; _events?: unknown };
  return own[kCapture] === false && typeof own._events === 'object' && own._events !== null;
}

/**
 * The event's listener when it is a single function, else undefined (emit then does the
 * work). Node stores one listener as the function itself, several as an array.
 */
export function singleListener(
  server: http.Server,
  event: string,
): ((this: http.Server, ...args: unknown[]) => unknown) | undefined {
  const listener = (server as unknown as { _events: Events })._events[event];
  return typeof listener === 'function'
    ? (listener as (this: http.Server, ...args: unknown[]) => unknown)
    : undefined;
}
