/**
 * Echoing X-Request-Id on a guarded response, at the cost of one check per response head.
 *
 * res.setHeader() per request was the obvious way, and the most expensive: it validates the
 * name and the value, and it makes Node's writeHead(status, headers) take its slow path (every
 * header the app passes then goes through setHeader too). Instead, the method that assembles
 * every response head (writeHead, and res.end() without writeHead, both end in _storeHeader)
 * is wrapped once per process, and the id line rides along with the status line. The id needs
 * no validation: it is either a client id that passed Heroku's charset check or a UUID.
 *
 * The prototype rather than each response: a property added to every response costs an
 * allocation, and Express swaps the response's prototype for one that inherits from this one,
 * so the wrapper is still found. Responses of unguarded servers pass through unchanged.
 * An id the app set itself (setHeader, or writeHead's headers) wins, as it did with setHeader.
 */

import http, { type ServerResponse } from 'node:http';
import { ID_LINE_PREFIX } from '../core/uuid.js';
import { nodeSymbol } from './node-symbol.js';
import { recordOf } from './record.js';

type StoreHeader = (this: ServerResponse, firstLine: string, headers: unknown) => unknown;

let installed: boolean | undefined;

/**
 * Wrap ServerResponse's head assembly once. Returns false when this Node has no such method;
 * the caller then falls back to setHeader per request.
 */
export function installIdEcho(): boolean {
  if (installed !== undefined) return installed;
  const proto = http.ServerResponse.prototype as unknown as { _storeHeader?: StoreHeader };
  const storeHeader = proto._storeHeader;
  installed = typeof storeHeader === 'function';
  if (storeHeader === undefined || !installed) return false;
  proto._storeHeader = function echoingStoreHeader(this: ServerResponse, firstLine, headers) {
    const rec = recordOf(this.req);
    // headers is the setHeader store (when the app used setHeader; writeHead merged its own
    // headers into it), or writeHead's object or array, or null.
    if (rec === undefined || !rec.server.options.requestId || hasIdHeader(this, headers))
      return storeHeader.call(this, firstLine, headers);
    // An id the guard made comes as the line's two pieces; a given id needs the line around it.
    const line =
      rec.givenId === ''
        ? firstLine + rec.lineHead + rec.lineTail
        : `${firstLine}${ID_LINE_PREFIX}${rec.givenId}\r\n`;
    return storeHeader.call(this, line, headers);
  } as StoreHeader;
  return true;
}

const NAME = 'x-request-id';

/** Length and first letter before toLowerCase(): `content-type` has the same length. */
function isIdName(name: unknown): boolean {
  return (
    typeof name === 'string' &&
    name.length === NAME.length &&
    (name.charCodeAt(0) | 0x20) === 0x78 &&
    name.toLowerCase() === NAME
  );
}

/**
 * Where Node keeps the headers set with setHeader(), keyed by the lowercased name, so one
 * keyed load answers. On Node 22 and 24 it is an object without a prototype, which V8 keeps
 * as a dictionary: a for-in over it collects the keys anew on every call, many times the cost
 * of that load (docs/guard.md, "Thirteenth session"). Node 26 builds it from a class and it
 * keeps fast properties; the load is still the cheaper check. Express and Koa send their
 * heads from this store.
 */
const kOutHeaders = nodeSymbol(new http.OutgoingMessage(), 'kOutHeaders');

/** Whether the app put its own X-Request-Id among the response's headers. */
function hasIdHeader(res: ServerResponse, headers: unknown): boolean {
  if (headers === null || typeof headers !== 'object') return false;
  if (
    kOutHeaders !== undefined &&
    headers === (res as unknown as Record<symbol, unknown>)[kOutHeaders]
  )
    return (headers as Record<string, unknown>)[NAME] !== undefined;
  if (Array.isArray(headers)) {
    // [[name, value], ...] or [name, value, name, value, ...]
    if (Array.isArray(headers[0])) return headers.some((entry) => isIdName(entry[0]));
    for (let i = 0; i < headers.length; i += 2) if (isIdName(headers[i])) return true;
    return false;
  }
  // for-in without hasOwn: an inherited X-Request-Id key would only make the guard skip its
  // own line; for-in allocates no key array (Object.keys did, on every response).
  for (const key in headers) if (isIdName(key)) return true;
  return false;
}
