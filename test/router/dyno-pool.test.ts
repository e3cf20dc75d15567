/**
 * Dyno connections read into a buffer they reuse (src/router/dyno-pool.ts). A chunk is a view
 * of that buffer, so a write that queues the view must make the connection read into a new
 * buffer (`lendIfQueued`); otherwise the next read overwrites bytes still waiting to be sent.
 * A corked socket is a write that certainly queues.
 */

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import {
  type DynoConnection,
  type DynoListener,
  DynoPool,
  defaultConnect,
} from '../../src/router/dyno-pool.js';
import type { Dyno } from '../../src/router/dynos.js';
import { once, receiveBytes, withTimeout } from '../helpers/wait.js';

const PIECES = 12;
/** Piece k: 1000 bytes of the letter k, so a piece read into the wrong place shows. */
const piece = (k: number): Buffer => Buffer.alloc(1000, 97 + k);

let app: net.Server;
let sinkServer: net.Server;
let dyno: Dyno;

before(async () => {
  // Sends piece k+1 only once it has heard back about piece k: one piece per read.
  app = net.createServer((socket) => {
    let sent = 0;
    socket.write(piece(sent++));
    socket.on('data', () => {
      if (sent < PIECES) socket.write(piece(sent++));
    });
    socket.on('error', () => {});
  });
  sinkServer = net.createServer();
  for (const server of [app, sinkServer])
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = app.address() as net.AddressInfo;
  dyno = { name: 'web.1', host: '127.0.0.1', port, state: 'up', stoppingSince: null };
});

after(async () => {
  for (const server of [app, sinkServer])
    await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('a chunk whose write was queued is not overwritten by the next read', async () => {
  const sinkAccepted = once<[net.Socket]>(sinkServer, 'connection', 5_000);
  const sink = net.connect((sinkServer.address() as net.AddressInfo).port, '127.0.0.1');
  await once(sink, 'connect', 5_000);
  const [sinkEnd] = await sinkAccepted;
  sink.cork();

  const pool = new DynoPool({ keepAlive: true, idleMs: 10_000, connect: defaultConnect });
  try {
    await relayCorked(pool, sink, sinkEnd);
  } finally {
    sink.destroy();
    sinkEnd.destroy();
    await pool.closeAll();
  }
});

/** Reads every piece through the pool, writing each chunk to the corked `sink`; then checks. */
async function relayCorked(pool: DynoPool, sink: net.Socket, sinkEnd: net.Socket): Promise<void> {
  let pieces = 0;
  const allRead = withTimeout(
    new Promise<void>((resolve, reject) => {
      const owner: DynoListener = {
        onDynoConnect: () => {},
        onDynoData: (conn: DynoConnection, chunk: Buffer) => {
          sink.write(chunk);
          conn.lendIfQueued(sink);
          pieces += chunk.length / 1000;
          if (pieces >= PIECES) resolve();
          else conn.socket.write('n');
        },
        onDynoGone: () => reject(new Error('the app closed early')),
        onDynoDrain: () => {},
      };
      pool.open(dyno, 'web.1', owner);
    }),
    5_000,
    'every piece',
  );
  await allRead;

  const sunk = receiveBytes(sinkEnd, PIECES * 1000, 5_000, 'the queued bytes');
  sink.uncork();
  const received = await sunk;
  const expected = Buffer.concat(Array.from({ length: PIECES }, (_, k) => piece(k)));
  assert.ok(received.equals(expected), 'queued bytes were overwritten');
}
