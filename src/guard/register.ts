/**
 * `node --import h13/register app.js`: every http.Server the app starts listening is guarded,
 * without a code change. Options come from H13_GUARD (a JSON object of guard options), and are
 * validated here, at startup, so a typo stops the app with a clear message instead of running
 * unguarded.
 */

import http from 'node:http';
import { guard, isGuarded } from './index.js';
import { optionsFromEnv, resolveOptions } from './options.js';

const options = optionsFromEnv(process.env);
resolveOptions(options);

// Patch listen rather than createServer: it catches `new http.Server()`, named imports and
// frameworks alike, and runs after the framework has set its own timeouts, so the guard's
// keep-alive settings win.
const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function guardedListen(this: http.Server, ...args: unknown[]) {
  if (!isGuarded(this)) guard(this, options);
  return Reflect.apply(listen, this, args) as http.Server;
} as typeof listen;
