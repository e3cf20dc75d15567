/**
 * Reading a bounded request body and writing JSON answers. A body over the limit is refused
 * from its Content-Length when it has one, else as soon as the bytes read pass it; the answer
 * then closes the connection so the rest is never read.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { safeJson } from '../core/safe-json.js';

export type BodyResult =
  | { readonly kind: 'ok'; readonly body: Buffer }
  | { readonly kind: 'too-large' }
  | { readonly kind: 'aborted' };

export function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes)
    return Promise.resolve({ kind: 'too-large' });
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (r: BodyResult) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      resolve(r);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        parts.length = 0;
        req.pause();
        settle({ kind: 'too-large' });
        return;
      }
      parts.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => settle({ kind: 'ok', body: Buffer.concat(parts, size) }));
    req.once('aborted', () => settle({ kind: 'aborted' }));
    req.once('close', () => settle({ kind: 'aborted' }));
    req.once('error', () => settle({ kind: 'aborted' }));
  });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = `${safeJson(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

/**
 * An error answer. `close` when the body was not read: the connection ends after the answer
 * instead of Node reading (and discarding) a body that may be large or never come.
 */
export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  options: { close?: boolean; headers?: Record<string, string> } = {},
): void {
  sendJson(
    res,
    status,
    { error: message },
    {
      ...(options.close === true ? { connection: 'close' } : {}),
      ...options.headers,
    },
  );
}
