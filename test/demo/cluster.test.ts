import assert from 'node:assert/strict';
import { it } from 'node:test';
import { freePort } from '../../src/core/ports.js';
import { exchange } from '../../src/http/raw-exchange.js';
import { CLI } from '../helpers/paths.js';
import { spawnNode } from '../helpers/process.js';

const get = (port: number, path: string) =>
  exchange({
    host: '127.0.0.1',
    port,
    bytes: `GET ${path} HTTP/1.1\r\nHost: demo\r\n\r\n`,
    timeoutMs: 5000,
  });

it('--cluster: /throw kills the worker, the primary forks a new one, the next request is served', async () => {
  const port = await freePort();
  const app = spawnNode(CLI, ['demo', '--cluster', '--port', String(port), '--host', '127.0.0.1']);
  try {
    const first = await app.waitFor(/demo listening on .* \(worker (\d+)\)/);
    const r = await get(port, '/throw');
    assert.equal(r.ending, 'silent');
    await app.waitFor(new RegExp(`worker ${first[1]} died \\(exit 1\\); forking a new one`));
    await app.waitFor(new RegExp(`demo listening on .* \\(worker (?!${first[1]}\\))\\d+\\)`));
    const next = await get(port, '/');
    assert.equal(next.status, 200);
    app.child.kill('SIGTERM');
    assert.equal(await app.exited(), 0);
  } finally {
    app.kill();
  }
});
