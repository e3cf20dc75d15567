import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { isH13Error } from '../../src/core/errors.js';
import { guard, KEEP_ALIVE_PROFILES } from '../../src/guard/index.js';
import { optionsFromEnv, resolveOptions } from '../../src/guard/options.js';
import { exchange } from '../../src/http/raw-exchange.js';
import { until, withTimeout } from '../helpers/wait.js';
import { fields, type Guarded, IN_PROCESS, startGuarded } from './helpers.js';

describe('guard options', () => {
  it('rejects bad options with clear H13Errors', () => {
    const cases: Array<[unknown, RegExp, string]> = [
      [
        { keepAlive: 'haproxy' },
        /keepAlive: expected heroku, alb, nginx/,
        'H13_ERR_INVALID_OPTION',
      ],
      [{ keepAlive: 10 }, /keepAlive/, 'H13_ERR_INVALID_OPTION'],
      [
        { drainTimeoutMs: '5s' },
        /drainTimeoutMs: expected a number of milliseconds.*H13_GUARD/,
        'H13_ERR_INVALID_OPTION',
      ],
      [{ drainTimeoutMs: -1 }, /drainTimeoutMs: expected 0 to/, 'H13_ERR_INVALID_OPTION'],
      [{ steps: 'always' }, /steps: expected 'failure', 'live' or 'off'/, 'H13_ERR_INVALID_OPTION'],
      [{ signals: ['SIGKILL'] }, /signals/, 'H13_ERR_INVALID_OPTION'],
      [
        { log: { info() {} } },
        /log: the logger has no warn\/error method/,
        'H13_ERR_INVALID_OPTION',
      ],
      [{ context: 'yes' }, /context: expected true or false/, 'H13_ERR_INVALID_OPTION'],
      [{ drainTimout: 5 }, /unknown option "drainTimout"/, 'H13_ERR_UNKNOWN_OPTION'],
      [
        { clientErrorLingerMs: 120_000 },
        /clientErrorLingerMs: expected 0 to 60000 ms/,
        'H13_ERR_INVALID_OPTION',
      ],
      [
        { clientErrorLingerBytes: 1.5 },
        /clientErrorLingerBytes: expected an integer/,
        'H13_ERR_INVALID_OPTION',
      ],
    ];
    for (const [input, message, code] of cases) {
      assert.throws(
        () => resolveOptions(input as never),
        (err: unknown) => isH13Error(err) && err.code === code && message.test(err.message),
        JSON.stringify(input),
      );
    }
  });

  it('H13_GUARD takes durations with a unit or as numbers, and refuses a bare number string', () => {
    const env = (o: unknown) => resolveOptions(optionsFromEnv({ H13_GUARD: JSON.stringify(o) }));
    assert.equal(env({ lateWindowMs: '1.5s' }).lateWindowMs, 1500);
    assert.equal(env({ drainTimeoutMs: 800 }).drainTimeoutMs, 800);
    assert.equal(env({ clientErrorLingerMs: '500ms' }).clientErrorLingerMs, 500);
    assert.throws(() => env({ idleQuietMs: '250' }), /idleQuietMs: "250" has no unit; write 250s/);
    assert.throws(() => env({ idleQuietMs: 'soon' }), /not a duration/);
  });

  it('refuses what is not a server, with a hint for Express and Fastify', () => {
    assert.throws(() => guard((() => {}) as never), /guard\(app\.listen\(port\)\)/);
    assert.throws(() => guard({ server: {} } as never), /guard\(app\.server\)/);
  });
});

describe('guard keep-alive tuning', () => {
  const servers: Guarded[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  for (const [profile, ms] of Object.entries(KEEP_ALIVE_PROFILES)) {
    it(`profile ${profile}: Node's default keepAliveTimeout becomes ${ms}; the other timeouts stay`, () => {
      const server = http.createServer();
      const before = { h: server.headersTimeout, r: server.requestTimeout };
      guard(server, { ...IN_PROCESS, keepAlive: profile as never, log: () => {} });
      assert.equal(server.keepAliveTimeout, ms);
      assert.deepEqual({ h: server.headersTimeout, r: server.requestTimeout }, before);
    });
  }

  it("keeps what the app chose (requestTimeout, headersTimeout, keepAliveTimeout), and warns once, with the fix, only about a keep-alive below the proxy's", () => {
    const lines: string[] = [];
    const a = http.createServer({ requestTimeout: 2000, headersTimeout: 1500 });
    a.keepAliveTimeout = 60_000;
    guard(a, { ...IN_PROCESS, log: (l) => lines.push(l) });
    assert.deepEqual(
      [a.keepAliveTimeout, a.headersTimeout, a.requestTimeout],
      [60_000, 1500, 2000],
    );
    const warnings = lines.filter((l) => /event=keep_alive/.test(l));
    assert.equal(warnings.length, 1, lines.join('\n'));
    const w = fields(warnings[0] as string);
    assert.equal(w.setting, 'keepAliveTimeout');
    assert.equal(w.value, '60000');
    assert.match(w.desc ?? '', /server\.keepAliveTimeout = 95000/);
    const fastifyDefault = http.createServer();
    fastifyDefault.keepAliveTimeout = 72_000; // Fastify's default, chosen for a 60 s balancer
    guard(fastifyDefault, { ...IN_PROCESS, log: () => {} });
    assert.equal(fastifyDefault.keepAliveTimeout, 95_000);
    const b = http.createServer();
    b.keepAliveTimeout = 120_000;
    const quiet: string[] = [];
    guard(b, { ...IN_PROCESS, log: (l) => quiet.push(l) });
    assert.equal(b.keepAliveTimeout, 120_000);
    assert.deepEqual(
      quiet.filter((l) => /event=keep_alive/.test(l)),
      [],
      'no warning about its own or a higher value',
    );
  });

  it('an idle keep-alive connection outlives headersTimeout and requestTimeout (why the guard leaves them alone)', async () => {
    const server = http.createServer(
      { headersTimeout: 100, requestTimeout: 150, connectionsCheckingInterval: 20 },
      (_req, res) => res.end('ok'),
    );
    guard(server, { ...IN_PROCESS, log: () => {} });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const idle = net.connect(port, '127.0.0.1');
      const answers: string[] = [];
      const closed = new Promise<void>((resolve) => idle.once('close', resolve));
      idle.on('data', (d: Buffer) => answers.push(d.toString('latin1')));
      idle.write('GET /1 HTTP/1.1\r\nHost: t\r\n\r\n');
      await until(() => answers.length === 1, 3000, 'first answer');
      // A second connection that stalls in its headers: its 408 proves Node's timeout check
      // ran after the first connection went idle, past both timeouts.
      const slow = await exchange({
        host: '127.0.0.1',
        port,
        bytes: 'GET / HTTP/1.1\r\nHost',
        timeoutMs: 3000,
      });
      assert.equal(slow.status, 408);
      idle.write('GET /2 HTTP/1.1\r\nHost: t\r\n\r\n');
      await until(
        () => answers.join('').split('HTTP/1.1 200').length === 3,
        3000,
        'second answer on the idle connection',
      );
      idle.destroy();
      await withTimeout(closed, 3000, 'close');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('warns once when the app sets keepAliveTimeout below the profile after guard()', async () => {
    const g = await startGuarded((_req, res) => res.end('ok'));
    servers.push(g);
    g.server.keepAliveTimeout = 4000;
    // Checked when a connection comes, not on the write (see keep-alive.ts).
    await g.get('/');
    const line = await g.waitLine(/event=keep_alive/);
    assert.equal(line.at, 'warning');
    assert.equal(line.value, '4000');
    assert.equal(line.profile, 'heroku');
    g.server.keepAliveTimeout = 3000;
    await g.get('/');
    assert.equal(g.lines.filter((l) => /event=keep_alive/.test(l)).length, 1, 'once per setting');
    assert.equal(g.server.keepAliveTimeout, 3000, "the app's value is kept");
  });

  it("Node's keep-alive advertises the new timeout on responses", async () => {
    const g = await startGuarded((_req, res) => res.end('ok'));
    servers.push(g);
    const r = await g.get('/');
    const keepAlive = r.head?.headers.find(([k]) => k.toLowerCase() === 'keep-alive')?.[1];
    assert.equal(keepAlive, 'timeout=95');
  });
});
