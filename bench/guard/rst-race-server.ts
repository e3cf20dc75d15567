/**
 * The server of the RST-race reproduction (rst-race.ts), one variant per process:
 *   node rst-race-server.js bare|guard none|destroy|silent [GUARD_OPTIONS JSON]
 * `none`: no clientError listener (Node's own answer); `destroy`: a listener that only
 * destroys the socket (the guard answers for it); `silent`: a listener that does nothing
 * (the guard answers and closes). Prints "listening on PORT".
 */

import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { guard } from '../../src/guard/index.js';

const variant = process.argv[2] ?? 'guard';
const listener = process.argv[3] ?? 'none';
const options = JSON.parse(process.argv[4] ?? '{}') as Record<string, unknown>;

const server = http.createServer((_req, res) => {
  res.end('ok\n');
});
if (listener === 'destroy') server.on('clientError', (_err, socket: Socket) => socket.destroy());
else if (listener === 'silent') server.on('clientError', () => {});
else if (listener !== 'none') throw new Error(`unknown listener ${listener}`);

// The guard's log lines go nowhere: one per bad request would only add load.
if (variant === 'guard') guard(server, { log: () => {}, ...options });
else if (variant !== 'bare') throw new Error(`unknown variant ${variant}`);

server.listen(0, '127.0.0.1', () => {
  console.log(`listening on ${(server.address() as AddressInfo).port}`);
});
