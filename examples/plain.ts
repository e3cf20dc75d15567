/**
 * A plain node:http app, guarded. Run: node build/examples/plain.js (PORT, HOST from env).
 * In your app: import { guard, stepFor } from 'h13/guard';
 */

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { guard, onShutdown, stepFor } from '../src/guard/index.js';

const server = http.createServer((req, res) => {
  stepFor(req, 'routing');
  if (req.url === '/destroy') {
    // The bug the guard is for: the socket closes with a response owed.
    req.socket.destroy();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('hello from plain node:http\n');
});

guard(server);
onShutdown(() => {
  // Close the database pool, flush metrics... after the server stopped taking requests.
});

server.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '0.0.0.0', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`plain example listening on http://${process.env.HOST ?? 'localhost'}:${port}`);
});
