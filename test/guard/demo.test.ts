import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exchange } from '../../src/http/raw-exchange.js';
import { CLI } from '../helpers/paths.js';
import { spawnNode } from '../helpers/process.js';
import { fields } from './helpers.js';

async function demo(args: string[]) {
  const app = spawnNode(CLI, ['demo', '--port', '0', '--host', '127.0.0.1', ...args]);
  const m = await app.waitFor(/demo listening on http:\/\/127\.0\.0\.1:(\d+)/);
  const port = Number(m[1]);
  const send = (bytes: string) => exchange({ host: '127.0.0.1', port, bytes, timeoutMs: 3000 });
  const get = (path: string) => send(`GET ${path} HTTP/1.1\r\nHost: demo\r\n\r\n`);
  return { app, send, get };
}

const BAD = 'GET / HTTP/1.1\r\nHost: demo\r\nBad Header: v\r\n\r\n';

describe('h13 demo --guard', () => {
  it('unguarded, /destroy, /socket-timeout and a bad client (destroying listener) close silently', async () => {
    const { app, get, send } = await demo(['--client-error', 'destroy']);
    try {
      assert.equal((await get('/destroy')).ending, 'silent');
      assert.equal((await get('/socket-timeout?ms=100')).ending, 'silent');
      assert.equal((await send(BAD)).ending, 'silent');
    } finally {
      app.kill();
    }
  });

  it('guarded, each of them is answered and explained', async () => {
    const { app, get, send } = await demo(['--guard', '--client-error', 'destroy']);
    try {
      const destroyed = await get('/destroy');
      assert.equal(destroyed.status, 500);
      const timedOut = await get('/socket-timeout?ms=100');
      assert.equal(timedOut.status, 503);
      const bad = await send(BAD);
      assert.equal(bad.status, 400);
      const partial = await get('/partial');
      assert.equal(partial.ending, 'truncated');
      await app.waitFor(/code=H18/);
      const lines = app
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('at=') && !/ event=start /.test(l))
        .map(fields);
      const causes = lines.map((l) => l.cause ?? l.answered_by);
      assert.deepEqual(causes, ['app_destroy', 'socket_timeout', 'guard', 'app_destroy']);
      assert.match(lines[0]?.stack ?? '', /demo\/handlers\.js/);
    } finally {
      app.kill();
    }
  });
});
