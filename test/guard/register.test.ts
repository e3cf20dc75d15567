import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fixture } from '../helpers/paths.js';
import { spawnProcess } from '../helpers/process.js';
import { withTimeout } from '../helpers/wait.js';
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

  it('--import h13/guard (the library, a natural typo) guards too and says to use h13/register', async () => {
    const index = pathToFileURL(
      fileURLToPath(new URL('../../src/guard/index.js', import.meta.url)),
    ).href;
    const app = spawnProcess(process.execPath, ['--import', index, fixture('guard-register-app')]);
    try {
      const m = await app.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      assert.match(app.stderr(), /event=import_guard .*use h13\/register/);
      const destroyed = await httpGet(`${m[1] as string}/destroy`);
      assert.equal(destroyed.status, 500, 'guarded');
    } finally {
      app.kill();
    }
  });

  it('warns at startup when npm started the app (npm exits on SIGTERM without waiting)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'h13-npm-'));
    try {
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify({
          name: 'npm-start-fixture',
          private: true,
          scripts: {
            start: `node --import ${JSON.stringify(REGISTER)} ${JSON.stringify(fixture('guard-register-app'))}`,
          },
        }),
      );
      const npm = spawnProcess('npm', ['start', '--silent'], { cwd: dir });
      let appPid = 0;
      try {
        await npm.waitFor(/listening on/, 20_000);
        // The app is npm's grandchild: killing npm would leave it running.
        appPid = Number(fields((await npm.waitFor(/^at=info event=start .*$/m))[0]).pid);
        const line = fields((await npm.waitFor(/^at=warning event=parent_process.*$/m))[0]);
        assert.equal(line.parent, 'npm');
        assert.match(line.desc ?? '', /web: node --import h13\/register/);
      } finally {
        if (appPid > 0) process.kill(appPid, 'SIGKILL');
        npm.kill();
      }
      // Started directly, nothing is said.
      const direct = spawnProcess(process.execPath, [
        '--import',
        REGISTER,
        fixture('guard-register-app'),
      ]);
      try {
        await direct.waitFor(/listening on/);
        await direct.waitFor(/event=start /);
        assert.doesNotMatch(direct.stderr(), /event=parent_process/);
      } finally {
        direct.kill();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a reader that went away (EPIPE on stderr) does not make the guard loop: SIGTERM still ends the app', async () => {
    const child = spawn(process.execPath, ['--import', REGISTER, fixture('guard-register-app')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, H13_GUARD: JSON.stringify({ lateWindowMs: 50, idleQuietMs: 20 }) },
    });
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    try {
      await withTimeout(once(child.stdout, 'data'), 5000, 'listening');
      // npm killed under the app closes the app's pipes: every later write fails with EPIPE.
      child.stdout.destroy();
      child.stderr.destroy();
      child.kill('SIGTERM');
      // Node itself dies on an EPIPE nobody handles; the guard turns it into its crash exit.
      assert.equal(await withTimeout(exited, 8000, 'exit after SIGTERM'), 1);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
