/**
 * The benchmark's server, one variant per process: bare, guard (defaults), guard+context
 * (AsyncLocalStorage and a step() per request), guard+steps (a stepFor() per request, kept
 * for failures), bare+id (bare, plus a fixed X-Request-Id header), template (bare as Heroku's
 * Node template sets it up: keep-alive and a SIGTERM handler), pino-http (a logger line per
 * request to /dev/null, for scale).
 * Prints "listening on PORT".
 */

import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { guard, step, stepFor } from '../../src/guard/index.js';
import { BENCH_REQUEST_ID, optionsOf } from './variants.js';

const variant = process.argv[2] ?? 'bare';
const mode = process.argv[3] ?? 'sync';

type Handler = http.RequestListener;

const body = 'hello world\n';

function answer(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
}

/**
 * `bare+id`: the bare server with a fixed X-Request-Id header of the guard's length, so the
 * cost of the echoed header's bytes on the wire (both ends) is told from the guard's work.
 */
function answerWithId(res: http.ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/plain',
    'content-length': body.length,
    'x-request-id': BENCH_REQUEST_ID,
  });
  res.end(body);
}

/**
 * The `store` mode: the head set with setHeader(), as Express and Koa build it, so Node sends
 * it from its own header store rather than from an object given to writeHead.
 */
function answerFromStore(res: http.ServerResponse): void {
  res.setHeader('content-type', 'text/plain');
  res.setHeader('content-length', body.length);
  res.setHeader('x-powered-by', 'bench');
  res.end(body);
}

/** The research's "realistic" handler: a few awaits and a turn of the event loop. */
async function asyncWork(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve(i);
  await new Promise((resolve) => setImmediate(resolve));
}

function handlerFor(name: string): Handler {
  const record =
    name === 'guard+context'
      ? () => step('handled')
      : name === 'guard+steps'
        ? (req: http.IncomingMessage) => stepFor(req, 'handled')
        : () => {};
  const respond = name === 'bare+id' ? answerWithId : mode === 'store' ? answerFromStore : answer;
  if (mode === 'sync' || mode === 'store')
    return (req, res) => {
      record(req);
      respond(res);
    };
  return (req, res) => {
    void asyncWork().then(() => {
      record(req);
      respond(res);
    });
  };
}

let handler = handlerFor(variant);
if (variant === 'pino-http') {
  const require = createRequire(import.meta.url);
  const pino = require('pino') as (o: object, d: unknown) => unknown;
  const destination = (require('pino') as { destination: (p: string) => unknown }).destination(
    '/dev/null',
  );
  const pinoHttp = require('pino-http') as (o: object) => (req: unknown, res: unknown) => void;
  const log = pinoHttp({ logger: pino({}, destination) });
  const inner = handler;
  handler = (req, res) => {
    log(req, res);
    inner(req, res);
  };
}

const server = http.createServer(handler);
if (variant === 'template') {
  // Heroku's Node template: its keep-alive setting and a SIGTERM handler that closes the
  // server. An app's own listeners on the process and its sockets make some of Node's shared
  // EventEmitter code megamorphic, as the guard's do (measured with signal handlers and a
  // `close` per socket: docs/guard.md, "Eleventh session").
  server.keepAliveTimeout = 95_000;
  process.on('SIGTERM', () => server.close());
}
if (variant.startsWith('guard'))
  guard(server, {
    context: variant === 'guard+context',
    steps: 'failure',
    ...optionsOf(variant),
  });

// CPU time on request over stdin: a per-request cost that contention from other processes
// on the machine distorts far less than throughput.
// "exit" ends the process normally, so that --cpu-prof can write its profile.
process.stdin.setEncoding('utf8').on('data', (command: string) => {
  if (command.startsWith('exit')) process.exit(0);
  const { user, system } = process.cpuUsage();
  console.log(`cpu ${user + system} user ${user}`);
});

server.listen(0, '127.0.0.1', () => {
  console.log(`listening on ${(server.address() as AddressInfo).port}`);
});
