/**
 * A Fastify 5 app, guarded: guard(app.server) before listen. Fastify keeps the route off the
 * raw request, so one onRequest hook hands it to the guard (setRoute). Fastify answers bad
 * requests with its own clientError handler; the guard only watches and logs them.
 * Run: node build/examples/fastify.js (PORT, HOST from env).
 * In your app: import { guard, onShutdown, setRoute } from 'h13/guard';
 */

import Fastify from 'fastify';
import { guard, onShutdown, setRoute } from '../src/guard/index.js';

// Fastify's own keepAliveTimeout (72 s) is below Router 2.0's 90 s idle timeout; the guard keeps
// a value a framework set and warns, so the app sets the one the proxy needs.
const app = Fastify({ keepAliveTimeout: 95_000 });

app.addHook('onRequest', (request, _reply, done) => {
  setRoute(request.raw, request.routeOptions.url);
  done();
});

app.get('/', async () => 'hello from fastify\n');

app.get('/destroy', async (request, reply) => {
  request.raw.socket.destroy();
  return reply;
});

guard(app.server);
// Fastify's own close (its onClose hooks) after the guard drained the server.
onShutdown(() => app.close());

const address = await app.listen({
  port: Number(process.env.PORT ?? 3000),
  host: process.env.HOST ?? '0.0.0.0',
});
console.log(`fastify example listening on ${address}`);
