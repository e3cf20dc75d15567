/**
 * The demo's routes. Each one misbehaves on purpose, in the way a real app does; comments say
 * what the router sees.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { renderIndex } from './index-page.js';

export type Handler = (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => void;

const MAX_SLOW_MS = 10 * 60_000;

function clampMs(text: string | null, fallback: number): number {
  const n = Number(text ?? fallback);
  return Number.isFinite(n) && n >= 0 ? Math.min(n, MAX_SLOW_MS) : fallback;
}

function text(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

function failLater(message: string): Error {
  return new Error(message);
}

export const HANDLERS: Readonly<Record<string, Handler>> = {
  '/': (_req, res) => {
    const html = renderIndex();
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(html),
    });
    res.end(html);
  },

  // Zero response bytes, then FIN: the router's H13.
  '/destroy': (req) => {
    req.socket.destroy();
  },

  // A synchronous throw escapes the request listener: uncaughtException, the process dies,
  // Node prints the stack to stderr, every socket in flight closes with nothing written.
  '/throw': () => {
    throw failLater('demo /throw: something went wrong in the handler');
  },

  // Unhandled rejections are fatal since Node 15 (--unhandled-rejections=throw).
  '/reject': () => {
    void Promise.reject(failLater('demo /reject: a promise nobody awaited was rejected'));
  },

  '/exit': () => {
    console.error('demo /exit: calling process.exit(1) with a request in flight');
    process.exit(1);
  },

  // Head and part of a Content-Length body, then destroy: the router's H18.
  '/partial': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 1000 });
    res.write('x'.repeat(100), () => res.destroy());
  },

  '/slow': (_req, res, query) => {
    const ms = clampMs(query.get('ms'), 35_000);
    const timer = setTimeout(() => text(res, 200, `answered after ${ms} ms\n`), ms);
    res.on('close', () => clearTimeout(timer));
  },

  // A first byte, then silence: H15 once the router's 55 s idle window passes.
  '/stall': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 1000 });
    res.write('stalling...\n');
  },

  // Bytes that are not an HTTP response: H17.
  '/bad-response': (req, res) => {
    res.detachSocket(req.socket);
    req.socket.end('HTTP/1.1 OK\r\ncontent-type: text/plain\r\n\r\nno status code\n');
  },

  // A Set-Cookie line over 8192 bytes: H25 "oversized cookie".
  '/huge-cookie': (_req, res) => {
    text(res, 200, 'a big cookie was set\n', {
      'set-cookie': `session=${'a'.repeat(9000)}; Path=/`,
    });
  },

  // A socket timeout with no 'timeout' listener: Node destroys the socket, nothing was written.
  '/socket-timeout': (req, res, query) => {
    const ms = clampMs(query.get('ms'), 1000);
    req.socket.setTimeout(ms);
    const timer = setTimeout(() => text(res, 200, 'too late\n'), ms * 3);
    res.on('close', () => clearTimeout(timer));
  },

  '/upload': (req, res, query) => {
    if (query.get('reject-early') === '1') {
      // Answering before reading leaves the body unread; closing then makes the kernel send
      // RST, which can erase the 413 on its way: H18 on Heroku for large uploads.
      text(res, 413, 'upload rejected before reading it\n', { connection: 'close' });
      return;
    }
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
    });
    req.on('end', () => text(res, 200, `received ${size} bytes\n`));
  },
};
