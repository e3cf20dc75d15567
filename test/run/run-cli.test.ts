/** `h13 run` as a user runs it: real process, real signals, one merged stream. */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { exchange } from '../../src/http/raw-exchange.js';
import { CLI, fixture } from '../helpers/paths.js';
import { type Spawned, spawnNode, spawnProcess } from '../helpers/process.js';
import { withTimeout } from '../helpers/wait.js';
import { runArgv } from './cli-args.js';

const ROUTER = /h13 run \(pid \d+\): router on http:\/\/127\.0\.0\.1:(\d+)/;
const TS = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00`;

async function up(p: Spawned, count = 1): Promise<number> {
  const port = Number((await p.waitFor(ROUTER))[1]);
  await p.waitFor(new RegExp(`(State changed from starting to up[\\s\\S]*){${count}}`));
  return port;
}

const get = (port: number, path = '/') =>
  exchange({
    host: '127.0.0.1',
    port,
    bytes: `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`,
    timeoutMs: 5000,
  });

describe('h13 run (CLI)', () => {
  it('prints one heroku logs stream; SIGHUP restarts; SIGINT stops and exits 0', async () => {
    const p = spawnProcess(process.execPath, runArgv('run-app'));
    try {
      const port = await up(p);
      assert.equal((await get(port)).status, 200);
      await p.waitFor(
        new RegExp(`^${TS} heroku\\[router\\]: at=info method=GET path="/" host=x `, 'm'),
      );
      assert.match(
        p.stdout(),
        new RegExp(`^${TS} heroku\\[web\\.1\\]: Starting process with command \``, 'm'),
      );
      assert.match(p.stdout(), new RegExp(`^${TS} app\\[web\\.1\\]: listening on \\d+$`, 'm'));
      p.child.kill('SIGHUP');
      await p.waitFor(/heroku\[web\.1\]: Restarting/);
      await p.waitFor(/State changed from up to starting/);
      await p.waitFor(/Process exited with status 0/);
      await p.waitFor(/(State changed from starting to up[\s\S]*){2}/);
      assert.equal((await get(port)).status, 200);
      p.child.kill('SIGINT');
      assert.equal(await p.exited(), 0);
      assert.equal(p.stdout().match(/State changed from up to down/g)?.length, 1);
    } finally {
      p.kill();
    }
  });

  it('on a terminal, r restarts the dynos and q stops them (a real pty through script(1))', async () => {
    const command = `${process.execPath} ${CLI} run --port 0 --grace 5s -- ${process.execPath} ${fixture('run-app')}`;
    const p = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const seen = (pattern: RegExp) =>
      withTimeout(
        new Promise<void>((resolve) => {
          const check = () => {
            if (!pattern.test(out)) return;
            p.stdout.off('data', check);
            resolve();
          };
          p.stdout.on('data', check);
          check();
        }),
        10_000,
        `${pattern} in ${out}`,
      );
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => p.once('exit', resolve));
    try {
      await seen(/press r to restart, q to stop/);
      await seen(/State changed from starting to up/);
      p.stdin.write('r');
      await seen(/heroku\[web\.1\]: Restarting/);
      await seen(/(State changed from starting to up[\s\S]*){2}/);
      p.stdin.write('q');
      assert.equal(await withTimeout(exited, 10_000, 'h13 run to exit'), 0);
      assert.match(out, /State changed from up to down/);
    } finally {
      p.kill('SIGKILL');
    }
  });

  it('a SIGHUP during a restart is queued, said, and done after it; the banner names the PID', async () => {
    const p = spawnProcess(process.execPath, runArgv('run-app', ['--drain=400']));
    try {
      await up(p);
      assert.match(
        p.stderr(),
        new RegExp(`h13 run \\(pid ${p.child.pid}\\): .*kill -HUP ${p.child.pid} restarts`),
      );
      p.child.kill('SIGHUP');
      await p.waitFor(/heroku\[web\.1\]: Restarting/);
      p.child.kill('SIGHUP');
      p.child.kill('SIGHUP');
      await p.waitFor(/restart requested during a restart: queued/);
      await p.waitFor(/(heroku\[web\.1\]: Restarting[\s\S]*){2}/);
      await p.waitFor(/(State changed from starting to up[\s\S]*){3}/);
      p.child.kill('SIGINT');
      assert.equal(await p.exited(), 0);
      assert.equal(p.stdout().match(/Restarting/g)?.length, 2);
      assert.equal(p.stderr().match(/queued/g)?.length, 1);
    } finally {
      p.kill();
    }
  });

  it('exits 1 when a dyno had to be killed after the grace period (R12)', async () => {
    const p = spawnNode(CLI, [
      'run',
      '--port',
      '0',
      '--grace',
      '200ms',
      '--',
      process.execPath,
      fixture('run-app'),
      '--ignore-sigterm',
    ]);
    try {
      await up(p);
      p.child.kill('SIGTERM');
      assert.equal(await p.exited(), 1);
      assert.match(p.stdout(), /Error R12 \(Exit timeout\)/);
    } finally {
      p.kill();
    }
  });

  it('runs the web: line of ./Procfile and writes JSON lines with --log-format json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'h13-run-'));
    writeFileSync(
      join(dir, 'Procfile'),
      `worker: node nothing.js\nweb: ${process.execPath} ${fixture('run-app')}\n`,
    );
    const p = spawnNode(CLI, ['run', '--port', '0', '--log-format', 'json'], { cwd: dir });
    try {
      const port = await up(p);
      await get(port);
      await p.waitFor(/"process":"router"/);
      p.child.kill('SIGINT');
      assert.equal(await p.exited(), 0);
      const objects = p
        .stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.ok(
        objects.some(
          (o) =>
            o.process === 'web.1' &&
            o.message ===
              `Starting process with command \`${process.execPath} ${fixture('run-app')}\``,
        ),
      );
      const router = objects.find((o) => o.process === 'router');
      assert.equal(router?.source, 'heroku');
      assert.match(String(router?.timestamp), new RegExp(`^${TS}$`));
    } finally {
      p.kill();
    }
  });

  it('--dynos 0 is `heroku ps:scale web=0`: the router answers H14 and logs it', async () => {
    const p = spawnNode(CLI, ['run', '--port', '0', '--dynos', '0', '--', 'node', '-e', '0']);
    try {
      const port = Number((await p.waitFor(ROUTER))[1]);
      assert.equal((await get(port)).status, 503);
      await p.waitFor(/heroku\[router\]: at=error code=H14 desc="No web processes running"/);
      assert.doesNotMatch(p.stdout(), /Starting process/);
    } finally {
      p.kill();
    }
  });

  it('exits 3 with a clear message when there is no command and no Procfile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'h13-run-'));
    const p = spawnNode(CLI, ['run', '--port', '0'], { cwd: dir });
    assert.equal(await p.exited(), 3);
    assert.match(p.stderr(), /no command given and no Procfile .* \(H13_ERR_NO_PROCFILE\)/);
  });
});
