/**
 * Every demo scenario, observed at the socket level: what a proxy in front of the demo sees.
 * Crash scenarios get a process each; the others share one.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SCENARIOS } from '../../src/demo/scenarios.js';
import { type ExchangeResult, exchange } from '../../src/http/raw-exchange.js';
import { CLI } from '../helpers/paths.js';
import { type Spawned, spawnNode } from '../helpers/process.js';

const READY = /demo listening on http:\/\/127\.0\.0\.1:(\d+)/;

async function startDemo(...args: string[]): Promise<{ app: Spawned; port: number }> {
  const app = spawnNode(CLI, ['demo', '--port', '0', '--host', '127.0.0.1', ...args]);
  const m = await app.waitFor(READY);
  return { app, port: Number(m[1]) };
}

function get(port: number, path: string, timeoutMs = 5000, extra = ''): Promise<ExchangeResult> {
  return exchange({
    host: '127.0.0.1',
    port,
    bytes: `GET ${path} HTTP/1.1\r\nHost: demo\r\nX-Request-Id: test-request-id-0123456789${extra}\r\n\r\n`,
    timeoutMs,
  });
}

describe('demo scenarios that keep the process alive', () => {
  let demo: { app: Spawned; port: number };
  before(async () => {
    demo = await startDemo();
  });
  after(() => demo.app.kill());

  it('/ answers 200 with a link for every scenario', async () => {
    const r = await get(demo.port, '/');
    assert.equal(r.ending, 'answered');
    assert.equal(r.status, 200);
    const html = r.body.toString();
    for (const s of SCENARIOS)
      assert.ok(html.includes(`href="${s.path.replace('&', '&amp;')}"`), s.path);
  });

  it('/destroy closes with zero bytes (H13)', async () => {
    const r = await get(demo.port, '/destroy');
    assert.equal(r.ending, 'silent');
    assert.equal(r.bytesReceived, 0);
  });

  it('/partial sends the head and 100 of 1000 body bytes, then closes (H18)', async () => {
    const r = await get(demo.port, '/partial');
    assert.equal(r.ending, 'truncated');
    assert.equal(r.status, 200);
    assert.equal(r.body.length, 100);
  });

  it('/slow?ms=N answers after N ms, and is still open at a shorter deadline (H12)', async () => {
    const quick = await get(demo.port, '/slow?ms=20');
    assert.equal(quick.ending, 'answered');
    assert.equal(quick.status, 200);
    const slow = await get(demo.port, '/slow?ms=60000', 300);
    assert.equal(slow.ending, 'open');
    assert.equal(slow.bytesReceived, 0);
  });

  it('/stall sends a head and some bytes, then nothing (H15)', async () => {
    const r = await get(demo.port, '/stall', 300);
    assert.equal(r.ending, 'open');
    assert.equal(r.head?.status, 200);
    assert.ok(r.bytesReceived > 0);
  });

  it('/bad-response writes a status line without a code (H17)', async () => {
    const r = await get(demo.port, '/bad-response');
    assert.equal(r.ending, 'truncated');
    assert.match(r.malformed ?? '', /status line "HTTP\/1\.1 OK"/);
  });

  it('/huge-cookie sends a Set-Cookie line over 8192 bytes (H25)', async () => {
    const r = await get(demo.port, '/huge-cookie');
    assert.equal(r.ending, 'answered');
    const cookie = r.head?.headers.find(([k]) => k.toLowerCase() === 'set-cookie');
    assert.ok(cookie !== undefined && `Set-Cookie: ${cookie[1]}`.length > 8192);
  });

  it('/socket-timeout is destroyed by the socket timeout with zero bytes (H13)', async () => {
    const r = await get(demo.port, '/socket-timeout?ms=50');
    assert.equal(r.ending, 'silent');
    assert.equal(r.bytesReceived, 0);
  });

  it('/upload reads the body and answers with its size', async () => {
    const body = 'x'.repeat(5000);
    const r = await exchange({
      host: '127.0.0.1',
      port: demo.port,
      bytes: `POST /upload HTTP/1.1\r\nHost: demo\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      timeoutMs: 5000,
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'received 5000 bytes\n');
  });

  it('/upload?reject-early=1 answers 413 without reading a large body, then closes (H18 on Heroku)', async () => {
    const body = Buffer.alloc(8 * 1024 * 1024, 120);
    const head = `POST /upload?reject-early=1 HTTP/1.1\r\nHost: demo\r\nContent-Length: ${body.length}\r\n\r\n`;
    const r = await exchange({
      host: '127.0.0.1',
      port: demo.port,
      bytes: Buffer.concat([Buffer.from(head), body]),
      timeoutMs: 5000,
      waitForClose: true,
    });
    // The kernel decides whether the 413 arrives before the RST caused by the unread body;
    // either way the connection is closed by the server with the upload unread.
    assert.ok(r.status === 413 || r.ending === 'reset', `${r.ending} ${r.status}`);
    assert.notEqual(r.closedBy, 'open');
  });

  it('answers 400 to a target Node accepts but URL cannot parse, instead of crashing', async () => {
    const r = await get(demo.port, 'http://[::1');
    assert.equal(r.status, 400);
    assert.equal((await get(demo.port, '/')).status, 200);
  });

  it('logs each request with its X-Request-Id, as the seed advises', async () => {
    await get(demo.port, '/');
    await demo.app.waitFor(/GET \/ request_id=test-request-id-0123456789/);
  });
});

describe('demo scenarios that end the process', () => {
  for (const [path, message] of [
    ['/throw', /Error: demo \/throw: something went wrong in the handler\n\s+at /],
    ['/reject', /Error: demo \/reject: a promise nobody awaited was rejected\n\s+at /],
    ['/exit', /demo \/exit: calling process\.exit\(1\)/],
  ] as const) {
    it(`${path} drops the request and every other one in flight, prints why, exits 1 (H13)`, async () => {
      const { app, port } = await startDemo();
      try {
        const inFlight = get(port, '/slow?ms=60000', 10_000);
        await app.waitFor(/GET \/slow/);
        const r = await get(port, path);
        assert.equal(r.ending, 'silent');
        assert.equal(r.bytesReceived, 0);
        const other = await inFlight;
        assert.equal(other.ending, 'silent');
        assert.equal(await app.exited(), 1);
        assert.match(app.stderr(), message);
        const after = await get(port, '/', 2000);
        assert.equal(after.ending, 'refused');
      } finally {
        app.kill();
      }
    });
  }
});
