import assert from 'node:assert/strict';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import { isH13Error } from '../../src/core/errors.js';
import { guard, KEEP_ALIVE_PROFILES } from '../../src/guard/index.js';
import { resolveOptions } from '../../src/guard/options.js';
import { type Guarded, IN_PROCESS, startGuarded } from './helpers.js';

describe('guard options', () => {
  it('rejects bad options with clear H13Errors', () => {
    const cases: Array<[unknown, RegExp, string]> = [
      [
        { keepAlive: 'haproxy' },
        /keepAlive: expected heroku, alb, nginx/,
        'H13_ERR_INVALID_OPTION',
      ],
      [{ keepAlive: 10 }, /keepAlive/, 'H13_ERR_INVALID_OPTION'],
      [{ drainTimeout: 'soon' }, /drainTimeout.*not a duration/, 'H13_ERR_INVALID_OPTION'],
      [{ drainTimeout: -1 }, /drainTimeout: expected 0 to/, 'H13_ERR_INVALID_OPTION'],
      [{ steps: 'always' }, /steps: expected 'failure', 'live' or 'off'/, 'H13_ERR_INVALID_OPTION'],
      [{ signals: ['SIGKILL'] }, /signals/, 'H13_ERR_INVALID_OPTION'],
      [
        { log: { info() {} } },
        /log: the logger has no warn\/error method/,
        'H13_ERR_INVALID_OPTION',
      ],
      [{ context: 'yes' }, /context: expected true or false/, 'H13_ERR_INVALID_OPTION'],
      [{ drainTimout: 5 }, /unknown option "drainTimout"/, 'H13_ERR_UNKNOWN_OPTION'],
    ];
    for (const [input, message, code] of cases) {
      assert.throws(
        () => resolveOptions(input as never),
        (err: unknown) => isH13Error(err) && err.code === code && message.test(err.message),
        JSON.stringify(input),
      );
    }
    assert.equal(resolveOptions({ lateWindow: '1.5s' }).lateWindow, 1500);
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
    it(`profile ${profile}: keepAliveTimeout ${ms}, headers and request timeouts consistent`, () => {
      const server = http.createServer();
      guard(server, { ...IN_PROCESS, keepAlive: profile as never, log: () => {} });
      assert.equal(server.keepAliveTimeout, ms);
      assert.ok(server.headersTimeout > ms + 1000);
      assert.ok(server.requestTimeout === 0 || server.requestTimeout >= server.headersTimeout);
    });
  }

  it('takes a number, raises requestTimeout to headersTimeout, and keeps 0 (off)', () => {
    const a = http.createServer({ requestTimeout: 70_000, headersTimeout: 60_000 });
    guard(a, { ...IN_PROCESS, keepAlive: 120_000, log: () => {} });
    assert.equal(a.keepAliveTimeout, 120_000);
    assert.equal(a.requestTimeout, a.headersTimeout);
    const b = http.createServer({ requestTimeout: 0 });
    guard(b, { ...IN_PROCESS, log: () => {} });
    assert.equal(b.requestTimeout, 0);
  });

  it('keepAlive:false leaves the timeouts alone', () => {
    const server = http.createServer();
    guard(server, { ...IN_PROCESS, keepAlive: false, log: () => {} });
    assert.equal(server.keepAliveTimeout, 5000);
  });

  it('warns once when the app sets a timeout back below what the proxy needs', async () => {
    const g = await startGuarded((_req, res) => res.end('ok'));
    servers.push(g);
    g.server.keepAliveTimeout = 5000;
    // Checked when a connection comes, not on the write (see keep-alive.ts).
    await g.get('/');
    const line = await g.waitLine(/event=keep_alive/);
    assert.equal(line.at, 'warning');
    assert.equal(line.setting, 'keepAliveTimeout');
    assert.equal(line.value, '5000');
    assert.equal(line.profile, 'heroku');
    g.server.keepAliveTimeout = 4000;
    g.server.headersTimeout = 96_000;
    await g.get('/');
    await g.get('/');
    assert.equal(g.lines.filter((l) => /event=keep_alive/.test(l)).length, 1, 'once per setting');
    assert.equal(g.server.keepAliveTimeout, 4000, "the app's value is kept");
  });

  it("Node's keep-alive advertises the new timeout on responses", async () => {
    const g = await startGuarded((_req, res) => res.end('ok'));
    servers.push(g);
    const r = await g.get('/');
    const keepAlive = r.head?.headers.find(([k]) => k.toLowerCase() === 'keep-alive')?.[1];
    assert.equal(keepAlive, 'timeout=95');
  });
});
