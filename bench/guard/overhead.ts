/**
 * The guard's own CPU cost per request, without the network: a bare and a guarded
 * http.Server in this one process, fed requests through in-memory sockets, alternated in
 * batches. No syscalls and no load generator means the difference between the two is the
 * guard's JavaScript (plus the garbage it makes), steady enough to compare designs on a
 * shared machine where throughput figures move by ±30 %. Divide it by the bare server's CPU
 * per request over a real socket (throughput.js) to get the share of throughput it costs.
 *
 *   node build/bench/guard/overhead.js [--rounds 15] [--requests 50000] [--request-id]
 *
 * --request-id sends a valid X-Request-Id on every request, as Heroku's router does; without
 * it the guard makes a UUID for every request (direct traffic).
 */

import http from 'node:http';
import { Duplex } from 'node:stream';
import { parseArgs } from 'node:util';
import { guard } from '../../src/guard/index.js';
import { spread } from './stats.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    requests: { type: 'string', default: '50000' },
    'request-id': { type: 'boolean', default: false },
  },
});
const rounds = Number(values.rounds);
const requests = Number(values.requests);
const CONNECTIONS = 10;

const body = 'hello world\n';
const handler: http.RequestListener = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
};
const bare = http.createServer(handler);
const guarded = guard(http.createServer(handler), { signals: false, crash: false, exit: false });

const idLine = values['request-id'] ? 'X-Request-Id: 6f0c2e7a-1f4b-4c55-9a7e-2b8d1c3e4f50\r\n' : '';
const REQUEST = Buffer.from(`GET / HTTP/1.1\r\nHost: localhost\r\n${idLine}\r\n`);

type Chunk = { chunk: Buffer | string };
const endsResponse = (c: Buffer | string) => c.length > 0 && String(c).endsWith(body);

/** An in-memory keep-alive connection; the returned function sends one request. */
function connect(server: http.Server): () => Promise<void> {
  let done: () => void = () => {};
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer | string, _enc, cb) {
      cb();
      if (endsResponse(chunk)) done();
    },
    writev(chunks: Chunk[], cb) {
      cb();
      if (chunks.some((c) => endsResponse(c.chunk))) done();
    },
  });
  // What node:http calls on a net.Socket and a Duplex lacks.
  Object.assign(socket, {
    remoteAddress: '127.0.0.1',
    setTimeout: () => socket,
    setNoDelay: () => socket,
    setKeepAlive: () => socket,
  });
  server.emit('connection', socket);
  return () =>
    new Promise<void>((resolve) => {
      done = resolve;
      socket.push(REQUEST);
    });
}

/** CPU nanoseconds per request for `n` requests over CONNECTIONS connections. */
async function run(server: http.Server, n: number): Promise<number> {
  const sends = Array.from({ length: CONNECTIONS }, () => connect(server));
  const start = process.cpuUsage();
  await Promise.all(
    sends.map(async (send) => {
      for (let i = 0; i < n / CONNECTIONS; i++) await send();
    }),
  );
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / n;
}

// Warm-up: both servers' paths optimized before anything is counted.
for (let i = 0; i < 2; i++) {
  await run(bare, requests);
  await run(guarded, requests);
}
const bareNs: number[] = [];
const guardedNs: number[] = [];
const extraNs: number[] = [];
for (let round = 0; round < rounds; round++) {
  // Alternate which one goes first, so that drift within a round cancels out.
  const first = round % 2 === 0 ? bare : guarded;
  const a = await run(first, requests);
  const b = await run(first === bare ? guarded : bare, requests);
  const [x, y] = first === bare ? [a, b] : [b, a];
  bareNs.push(x);
  guardedNs.push(y);
  extraNs.push(y - x);
}
const f = (xs: number[]) => {
  const s = spread(xs);
  return `${s.median.toFixed(0)} ns [${s.min.toFixed(0)}…${s.max.toFixed(0)}]`;
};
console.log(
  `guard overhead, in-memory sockets, ${rounds} rounds × ${requests} requests, ` +
    `${values['request-id'] ? 'X-Request-Id sent (router case)' : 'no X-Request-Id (UUID made)'}`,
);
console.log(`bare     ${f(bareNs)} CPU per request`);
console.log(`guarded  ${f(guardedNs)} CPU per request`);
console.log(`guard    ${f(extraNs)} CPU per request (paired difference, median [range])`);
