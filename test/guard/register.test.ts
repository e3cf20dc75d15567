import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fixture } from '../helpers/paths.js';
import { spawnProcess } from '../helpers/process.js';
import { fields, httpGet } from './helpers.js';

const REGISTER = pathToFileURL(
  fileURLToPath(new URL('../../src/guard/register.js', import.meta.url)),
).href;

describe('node --import h13/register', () => {
  it('guards an app that has no guard code', async () => {
    const app = spawnProcess(
      process.execPath,
      ['--import', REGISTER, fixture('guard-register-app')],
      {
        env: { H13_GUARD: JSON.stringify({ lateWindowMs: 0 }) },
      },
    );
    try {
      const m = await app.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      const url = m[1] as string;
      const ok = await httpGet(`${url}/`);
      assert.equal(ok.status, 200);
      assert.ok(ok.headers['x-request-id']);
      const destroyed = await httpGet(`${url}/destroy`);
      assert.equal(destroyed.status, 500);
      const line = fields((await app.waitFor(/^at=error event=answered.*$/m))[0]);
      assert.match(line.stack ?? '', /guard-register-app\.js/);
      app.child.kill('SIGTERM');
      assert.equal(await app.exited(5000), 0);
    } finally {
      app.kill();
    }
  });

  it('refuses bad H13_GUARD options at startup with a clear message', async () => {
    const app = spawnProcess(
      process.execPath,
      ['--import', REGISTER, fixture('guard-register-app')],
      {
        env: { H13_GUARD: '{"keepAlive":"haproxy"}' },
      },
    );
    const code = await app.exited(5000);
    assert.notEqual(code, 0);
    assert.match(app.stderr(), /guard option keepAlive: expected heroku, alb, nginx/);
  });
});
