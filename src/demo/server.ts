/**
 * The demo app: a plain node:http server whose routes each cause one of Heroku's router errors.
 */

import http from 'node:http';
import type { Socket } from 'node:net';
import { HANDLERS } from './handlers.js';
import type { ClientErrorMode } from './scenarios.js';

export interface DemoOptions {
  readonly clientError: ClientErrorMode;
}

const BAD_REQUEST_BODY = 'Bad request\n';
const BAD_REQUEST = `HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: ${BAD_REQUEST_BODY.length}\r\nconnection: close\r\n\r\n${BAD_REQUEST_BODY}`;

export function createDemoServer(options: DemoOptions): http.Server {
  const server = http.createServer((req, res) => {
    const url = URL.parse(req.url ?? '/', 'http://demo.invalid');
    // A target Node's parser accepted but URL cannot (`GET http://[::1`) is the client's
    // mistake: answer it, never let it crash the demo outside the scenarios meant to.
    if (url === null) {
      res.writeHead(400, { 'content-type': 'text/plain', 'content-length': 16 });
      res.end('bad request URL\n');
      return;
    }
    const handler = HANDLERS[url.pathname];
    if (handler === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 10 });
      res.end('not found\n');
      return;
    }
    console.log(
      `${req.method} ${url.pathname} request_id=${String(req.headers['x-request-id'] ?? '-')}`,
    );
    handler(req, res, url.searchParams);
  });
  if (options.clientError === 'destroy') {
    // The common mistake: a listener that only destroys turns Node's 400 into a silent close.
    server.on('clientError', (_err: Error, socket: Socket) => socket.destroy());
  } else if (options.clientError === 'answer') {
    // The seed's fix, with the checks Node's docs ask for.
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      console.error(`clientError ${err.code ?? err.message}`);
      if (err.code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      socket.end(BAD_REQUEST);
    });
  }
  return server;
}
