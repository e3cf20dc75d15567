import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exchange } from '../../src/http/raw-exchange.js';
import { startFaultApp } from '../fixtures/router-fault-app.js';
import { CLI } from '../helpers/paths.js';
import { spawnNode } from '../helpers/process.js';
import { get } from './harness.js';

test('h13 router: listens, prints one heroku[router] line per request, exits 0 on SIGTERM', async () => {
  const app = await startFaultApp();
  const child = spawnNode(CLI, [
    'router',
    '--to',
    `http://127.0.0.1:${app.port}`,
    '--port',
    '0',
    '--router',
    'legacy',
    '--request-timeout',
    '100ms',
  ]);
  try {
    const m = await child.waitFor(/router listening on http:\/\/127\.0\.0\.1:(\d+)/);
    assert.match(child.stderr(), /router listening on/);
    const port = Number(m[1]);
    const ok = await exchange({ host: '127.0.0.1', port, bytes: get('/ok'), timeoutMs: 5_000 });
    assert.equal(ok.status, 200);
    const slow = await exchange({
      host: '127.0.0.1',
      port,
      bytes: get('/stall-first'),
      timeoutMs: 5_000,
    });
    assert.equal(slow.status, 503);
    await child.waitFor(/code=H12/);
    const lines = child.stdout().trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(
      lines[0] as string,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00 heroku\[router\]: at=info method=GET path="\/ok" host=app\.test .* status=200 bytes=\d+ protocol=http$/,
    );
    assert.match(lines[1] as string, /heroku\[router\]: at=error code=H12 desc="Request timeout"/);
    child.child.kill('SIGTERM');
    assert.equal(await child.exited(), 0);
  } finally {
    child.kill();
    await app.close();
  }
});

test('h13 router without --to is a usage error', async () => {
  const child = spawnNode(CLI, ['router', '--port', '0']);
  assert.equal(await child.exited(), 2);
  assert.match(child.stderr(), /--to/);
});
