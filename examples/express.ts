/**
 * An Express 5 app, guarded: guard(app.listen(...)). Express exposes req.route, so guard lines
 * carry route="/users/:id". Run: node build/examples/express.js (PORT, HOST from env).
 * In your app: import { guard, stepFor } from 'h13/guard';
 */

import type { AddressInfo } from 'node:net';
import express from 'express';
import { guard, stepFor } from '../src/guard/index.js';

const app = express();

app.get('/', (_req, res) => {
  res.send('hello from express\n');
});

app.get('/users/:id', (req, res) => {
  stepFor(req, 'loaded user', { user: req.params.id });
  res.json({ id: req.params.id });
});

app.get('/destroy', (req) => {
  stepFor(req, 'about to destroy');
  req.socket.destroy();
});

const host = process.env.HOST ?? '0.0.0.0';
const server = guard(
  app.listen(Number(process.env.PORT ?? 3000), host, () => {
    const { port } = server.address() as AddressInfo;
    console.log(`express example listening on http://${process.env.HOST ?? 'localhost'}:${port}`);
  }),
);
