/**
 * A Koa 3 app, guarded: guard(app.listen(...)). Koa keeps the route on ctx (ctx._matchedRoute
 * with @koa/router), so a middleware hands it to the guard with setRoute(ctx.req, ...).
 * Run: node build/examples/koa.js (PORT, HOST from env).
 * In your app: import { guard, setRoute, stepFor } from 'h13/guard';
 */

import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { guard, setRoute, stepFor } from '../src/guard/index.js';

const app = new Koa();

// With @koa/router, hand the matched pattern to the guard from a router-level middleware:
//   router.use((ctx, next) => { setRoute(ctx.req, ctx._matchedRoute); return next(); });
// This example has no router, so it names its two routes itself.
app.use(async (ctx) => {
  stepFor(ctx.req, 'handling', { path: ctx.path });
  if (ctx.path === '/destroy') {
    setRoute(ctx.req, '/destroy');
    ctx.req.socket.destroy();
    return;
  }
  ctx.body = 'hello from koa\n';
});

const server = guard(
  app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '0.0.0.0', () => {
    const { port } = server.address() as AddressInfo;
    console.log(`koa example listening on http://${process.env.HOST ?? 'localhost'}:${port}`);
  }),
);
