import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { exchange } from '../../src/http/raw-exchange.js';
import { DynoManager, type DynoManagerOptions } from '../../src/run/dyno-manager.js';
import { fixture } from '../helpers/paths.js';
import { withTimeout } from '../helpers/wait.js';

interface Harness {
  manager: DynoManager;
  lines: string[];
  waitLine(pattern: RegExp, ms?: number): Promise<string>;
}

const running = new Set<DynoManager>();
afterEach(async () => {
  for (const m of running) await m.stop();
  running.clear();
});

function harness(args: string[], options: Partial<DynoManagerOptions> = {}): Harness {
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const push = (line: string) => {
    lines.push(line);
    for (const w of [...waiters]) w();
  };
  const manager = new DynoManager({
    command: [process.execPath, fixture('run-app'), ...args],
    dynos: 1,
    env: process.env,
    cwd: process.cwd(),
    grace: 5000,
    bootTimeout: 5000,
    restartDelay: 50,
    log: (name, message) => push(`heroku[${name}]: ${message}`),
    appLog: (name, line) => push(`app[${name}]: ${line}`),
    note: (name, message) => push(`h13[${name}]: ${message}`),
    ...options,
  });
  running.add(manager);
  return {
    manager,
    lines,
    waitLine(pattern, ms = 10_000) {
      return withTimeout(
        new Promise<string>((resolve) => {
          const check = () => {
            const found = lines.find((l) => pattern.test(l));
            if (found !== undefined) {
              waiters.delete(check);
              resolve(found);
            }
          };
          waiters.add(check);
          check();
        }),
        ms,
        `${pattern} in\n${lines.join('\n')}`,
      );
    },
  };
}

const get = (port: number, path = '/') =>
  exchange({
    host: '127.0.0.1',
    port,
    bytes: `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`,
    timeoutMs: 5000,
  });

const upPorts = (m: DynoManager) =>
  m.table
    .list()
    .filter((d) => d.state === 'up')
    .map((d) => d.port);

describe('dyno manager', () => {
  it('starts web.1..web.N, each with its own PORT, and logs them up', async () => {
    const h = harness([], { dynos: 2 });
    await h.manager.start();
    await withTimeout(h.manager.whenUp(), 10_000, 'dynos up');
    for (const name of ['web.1', 'web.2']) {
      assert.ok(
        h.lines.includes(
          `heroku[${name}]: Starting process with command \`${process.execPath} ${fixture('run-app')}\``,
        ),
      );
      assert.ok(h.lines.includes(`heroku[${name}]: State changed from starting to up`));
    }
    const ports = upPorts(h.manager);
    assert.equal(new Set(ports).size, 2);
    const bodies = await Promise.all(ports.map(async (p) => (await get(p)).body.toString()));
    assert.deepEqual(bodies.map((b) => b.split(' ')[2]).sort(), ['web.1', 'web.2']);
    await h.waitLine(/^app\[web\.1\]: listening on \d+$/);
  });

  it('restarts a crashed dyno at once and logs the crash as Heroku does', async () => {
    const h = harness([]);
    await h.manager.start();
    await withTimeout(h.manager.whenUp(), 10_000, 'dyno up');
    const [first] = upPorts(h.manager);
    const r = await get(first as number, '/crash');
    assert.equal(r.ending, 'silent');
    await h.waitLine(/^app\[web\.1\]: crashing on purpose$/);
    await h.waitLine(/^heroku\[web\.1\]: Process exited with status 1$/);
    await h.waitLine(/^heroku\[web\.1\]: State changed from up to crashed$/);
    await h.waitLine(/^heroku\[web\.1\]: State changed from crashed to starting$/);
    await withTimeout(h.manager.whenUp(), 10_000, 'dyno up again');
    const [second] = upPorts(h.manager);
    assert.notEqual(second, first);
    assert.equal((await get(second as number)).status, 200);
    assert.ok(h.manager.troubled);
  });

  it('restart: new dynos start while the old ones get SIGTERM and exit', async () => {
    const h = harness(['--slow-exit=100']);
    await h.manager.start();
    await withTimeout(h.manager.whenUp(), 10_000, 'dyno up');
    const [oldPort] = upPorts(h.manager);
    await withTimeout(h.manager.restart(), 10_000, 'restart');
    const expected = [
      'heroku[web.1]: Restarting',
      'heroku[web.1]: State changed from up to starting',
      'heroku[web.1]: Stopping all processes with SIGTERM',
      'app[web.1]: got SIGTERM, exiting',
      'heroku[web.1]: Process exited with status 0',
    ];
    // In Heroku's order; the new dyno's lines may come in between.
    const positions = expected.map((line) => h.lines.indexOf(line));
    assert.ok(
      positions.every((p) => p >= 0),
      h.lines.join('\n'),
    );
    assert.deepEqual(
      [...positions].sort((a, b) => a - b),
      positions,
      h.lines.join('\n'),
    );
    await withTimeout(h.manager.whenUp(), 10_000, 'new dyno up');
    const [newPort] = upPorts(h.manager);
    assert.notEqual(newPort, oldPort);
    assert.equal(h.manager.table.list().length, 1);
    assert.ok(!h.manager.troubled);
  });

  it('SIGKILLs a dyno that ignores SIGTERM after the grace period (R12)', async () => {
    const h = harness(['--ignore-sigterm'], { grace: 200 });
    await h.manager.start();
    await withTimeout(h.manager.whenUp(), 10_000, 'dyno up');
    await withTimeout(h.manager.stop(), 10_000, 'stop');
    const tail = h.lines.slice(h.lines.indexOf('heroku[web.1]: State changed from up to down'));
    assert.deepEqual(
      tail.filter((l) => l.startsWith('heroku')),
      [
        'heroku[web.1]: State changed from up to down',
        'heroku[web.1]: Stopping all processes with SIGTERM',
        'heroku[web.1]: Error R12 (Exit timeout) -> At least one process failed to exit within 0.2 seconds of SIGTERM',
        'heroku[web.1]: Stopping remaining processes with SIGKILL',
        'heroku[web.1]: Process exited with status 137',
      ],
    );
    assert.ok(h.manager.troubled);
  });

  it('kills a dyno that does not bind $PORT in time (R10) and marks it crashed', async () => {
    const h = harness(['--no-bind'], { bootTimeout: 300, restartDelay: 60_000 });
    await h.manager.start();
    await h.waitLine(
      /Error R10 \(Boot timeout\) -> Web process failed to bind to \$PORT within 0\.3 seconds of launch$/,
    );
    await h.waitLine(/^heroku\[web\.1\]: Stopping process with SIGKILL$/);
    await h.waitLine(/^heroku\[web\.1\]: Process exited with status 137$/);
    await h.waitLine(/^heroku\[web\.1\]: State changed from starting to crashed$/);
    assert.ok(h.manager.troubled);
  });

  it('can send SIGTERM twice, as Heroku may, and logs both', async () => {
    const h = harness(['--slow-exit=400'], { resignal: 100 });
    await h.manager.start();
    await withTimeout(h.manager.whenUp(), 10_000, 'dyno up');
    await withTimeout(h.manager.stop(), 10_000, 'stop');
    assert.equal(
      h.lines.filter((l) => l === 'heroku[web.1]: Stopping all processes with SIGTERM').length,
      2,
    );
    assert.equal(h.lines.filter((l) => l === 'app[web.1]: got SIGTERM, exiting').length, 2);
    assert.ok(h.lines.includes('heroku[web.1]: Process exited with status 0'));
  });

  it('logs 143 for a process that SIGTERM kills by default', async () => {
    const h = harness([], {
      command: `exec ${process.execPath} -e "require('http').createServer().listen(process.env.PORT)"`,
    });
    await h.manager.start();
    await withTimeout(h.manager.whenUp(), 10_000, 'dyno up');
    await withTimeout(h.manager.stop(), 10_000, 'stop');
    assert.ok(
      h.lines.includes('heroku[web.1]: Process exited with status 143'),
      h.lines.join('\n'),
    );
  });
});
