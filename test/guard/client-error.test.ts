import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { requestIdFromRaw } from '../../src/guard/client-error.js';
import { type Guarded, startGuarded } from './helpers.js';

const ID = 'bad-client-0123456789abcdef';
const BAD = `GET / HTTP/1.1\r\nHost: t\r\nX-Request-Id: ${ID}\r\nBad Header: v\r\n\r\n`;

describe('guard clientError handling', () => {
  const servers: Guarded[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  it("keeps Node's default answer (no listener added) and logs the bad request", async () => {
    const g = await startGuarded((_req, res) => res.end('ok'));
    servers.push(g);
    assert.equal(g.server.listenerCount('clientError'), 0);
    const r = await g.raw(BAD);
    assert.equal(r.status, 400);
    const line = await g.waitLine(/event=client_error/);
    assert.equal(line.at, 'warning');
    assert.equal(line.error, 'HPE_INVALID_HEADER_TOKEN');
    assert.equal(line.answered_by, 'node');
    assert.equal(line.status, '400');
    assert.equal(line.remote_addr, '127.0.0.1');
    assert.equal(line.request_id, ID);
    assert.match(line.bytes ?? '', /^GET \/ HTTP\/1\.1\\r\\nHost: t\\r\\n/);
  });

  it("labels an app's own req.destroy(err) as socket_error, not as a parser rejection", async () => {
    const g = await startGuarded((req) => {
      const err = Object.assign(new Error('the app gave up'), { code: 'APP_GAVE_UP' });
      req.destroy(err);
    });
    servers.push(g);
    const r = await g.get('/');
    assert.equal(r.status, 500);
    const line = await g.waitLine(/event=socket_error/);
    assert.equal(line.error, 'APP_GAVE_UP');
    assert.equal(line.at, 'info');
    assert.equal(g.lines.filter((l) => /event=client_error/.test(l)).length, 0, g.lines.join('\n'));
    assert.equal((await g.waitLine(/event=answered/)).cause, 'app_destroy');
  });

  it('keeps 431 for oversized headers', async () => {
    const g = await startGuarded((_req, res) => res.end('ok'));
    servers.push(g);
    const r = await g.raw(`GET / HTTP/1.1\r\nHost: t\r\nX: ${'a'.repeat(17_000)}\r\n\r\n`);
    assert.equal(r.status, 431);
    const line = await g.waitLine(/event=client_error/);
    assert.equal(line.error, 'HPE_HEADER_OVERFLOW');
  });

  it('answers when the app listener only destroys the socket', async () => {
    const g = await startGuarded(
      (_req, res) => res.end('ok'),
      {},
      (server) => server.on('clientError', (_err: Error, socket: Socket) => socket.destroy()),
    );
    servers.push(g);
    const r = await g.raw(BAD);
    assert.equal(r.ending, 'answered');
    assert.equal(r.status, 400);
    const line = await g.waitLine(/event=client_error/);
    assert.equal(line.answered_by, 'guard');
    assert.equal(line.request_id, ID);
  });

  it('answers when the app listener leaves the socket open (Node would hang it)', async () => {
    const g = await startGuarded(
      (_req, res) => res.end('ok'),
      {},
      (server) => server.on('clientError', () => {}),
    );
    servers.push(g);
    const r = await g.raw('FOO / HTTP/1.1\r\nHost: t\r\n\r\n');
    assert.equal(r.status, 400);
    const line = await g.waitLine(/event=client_error/);
    assert.equal(line.answered_by, 'guard');
    assert.equal(line.error, 'HPE_INVALID_METHOD');
  });

  it('leaves an app listener that answers alone, and says so', async () => {
    const g = await startGuarded(
      (_req, res) => res.end('ok'),
      {},
      (server) =>
        server.on('clientError', (_err: Error, socket: Socket) =>
          socket.end("HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        ),
    );
    servers.push(g);
    const r = await g.raw(BAD);
    assert.equal(r.status, 418);
    const line = await g.waitLine(/event=client_error/);
    assert.equal(line.answered_by, 'app');
  });

  it('escapes what the client sent: bytes cannot forge a line', async () => {
    const g = await startGuarded((_req, res) => res.end('ok'));
    servers.push(g);
    await g.raw('GET /\x00 HTTP/1.1\r\nHost: t\r\n\r\nat=error code=H13\n');
    await g.waitLine(/event=client_error/);
    assert.equal(g.lines.length, 1);
    assert.doesNotMatch(g.lines[0] ?? '', /[\r\n\x00]/);
  });

  it('pulls the X-Request-Id out of raw bytes only when it is valid', () => {
    assert.equal(requestIdFromRaw(Buffer.from(`GET / HTTP/1.1\r\nx-request-id:  ${ID}\r\n`)), ID);
    assert.equal(
      requestIdFromRaw(Buffer.from('GET / HTTP/1.1\r\nX-Request-Id: short\r\n')),
      undefined,
    );
    assert.equal(requestIdFromRaw(undefined), undefined);
  });
});
