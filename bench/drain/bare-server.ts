/**
 * The peer `h13 drain` is measured against: a bare node:http server that reads each logplex
 * body, splits its frames with the same octet counting (src/drain/octet-frames.ts) and
 * discards them, answering 200. No auth, no parsing into lines, no database, no analysis.
 * Prints "bare listening on http://127.0.0.1:PORT".
 */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { splitOctetFrames } from '../../src/drain/octet-frames.js';

let frames = 0;
const sink = {
  frame: () => {
    frames++;
  },
  problem: () => {},
};
const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (d: Buffer) => parts.push(d));
  req.on('end', () => {
    splitOctetFrames(Buffer.concat(parts), sink);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(`{"frames":${frames}}\n`);
  });
});
server.listen(0, '127.0.0.1', () => {
  console.log(`bare listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
