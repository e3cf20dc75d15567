import assert from 'node:assert/strict';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import { requestInfo } from '../../src/guard/index.js';
import type { ExchangeResult } from '../../src/http/raw-exchange.js';
import { fields, type Guarded, header, startGuarded } from './helpers.js';

const VALID = 'echo-0123456789abcdefghij';

/** Every X-Request-Id line in a raw response head. */
function idHeaders(r: ExchangeResult): string[] {
  return (r.head?.headers ?? [])
    .filter(([k]) => k.toLowerCase() === 'x-request-id')
    .map(([, v]) => v);
}

describe('guard request id echo', () => {
  const servers: Guarded[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  it('echoes the id once, whichever way the app writes its head', async () => {
    const g = await startGuarded((req, res) => {
      const body = 'ok';
      if (req.url === '/object') res.writeHead(200, { 'Content-Type': 'text/plain' }).end(body);
      else if (req.url === '/flat') res.writeHead(201, ['Content-Type', 'text/plain']).end(body);
      else if (req.url === '/nested') res.writeHead(202, [['content-type', 'text/plain']]).end();
      else if (req.url === '/reason') res.writeHead(203, 'Fine', { a: 'b' }).end(body);
      else if (req.url === '/set') {
        res.setHeader('content-type', 'text/plain');
        res.writeHead(200, { 'x-other': '1' }).end(body);
      } else res.end(body);
    });
    servers.push(g);
    for (const path of ['/object', '/flat', '/nested', '/reason', '/set', '/implicit']) {
      const r = await g.get(path, `X-Request-Id: ${VALID}\r\n`);
      assert.deepEqual(idHeaders(r), [VALID], path);
    }
    const reason = await g.get('/reason');
    assert.equal(reason.head?.reason, 'Fine');
    assert.equal(header(reason, 'a'), 'b');
  });

  it("keeps the app's own X-Request-Id instead of adding a second one", async () => {
    const g = await startGuarded((req, res) => {
      if (req.url === '/set') res.setHeader('X-Request-Id', 'app-set');
      if (req.url === '/object') res.writeHead(200, { 'X-REQUEST-ID': 'app-object' });
      if (req.url === '/flat') res.writeHead(200, ['x-request-id', 'app-flat']);
      if (req.url === '/removed') {
        res.setHeader('x-request-id', 'gone');
        res.removeHeader('x-request-id');
      }
      res.end('ok');
    });
    servers.push(g);
    assert.deepEqual(idHeaders(await g.get('/set', `X-Request-Id: ${VALID}\r\n`)), ['app-set']);
    assert.deepEqual(idHeaders(await g.get('/object')), ['app-object']);
    assert.deepEqual(idHeaders(await g.get('/flat')), ['app-flat']);
    assert.deepEqual(idHeaders(await g.get('/removed', `X-Request-Id: ${VALID}\r\n`)), [VALID]);
  });

  it('with requestId: false still gives each request its id, found when first read', async () => {
    const ids: string[] = [];
    const g = await startGuarded(
      (req, res) => {
        const info = requestInfo(req);
        ids.push(`${req.url} ${info?.id} ${info?.id}`);
        if (req.url === '/fail') {
          res.writeHead(200, { 'content-length': 10 });
          res.write('x', () => res.destroy());
          return;
        }
        res.end('ok');
      },
      { requestId: false },
    );
    servers.push(g);
    assert.deepEqual(idHeaders(await g.get('/valid', `X-Request-Id: ${VALID}\r\n`)), []);
    await g.get('/short', 'X-Request-Id: too-short\r\n');
    await g.get('/fail', `X-Request-Id: ${VALID}\r\n`);
    const h18 = await g.waitLine(/code=H18/);
    assert.equal(h18.request_id, VALID);
    const [valid, short, fail] = ids.map((l) => l.split(' '));
    assert.deepEqual(valid, ['/valid', VALID, VALID]);
    // An id that fails Heroku's rule gets a UUID, the same one on every read.
    assert.match(
      short?.[1] ?? '',
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    assert.equal(short?.[2], short?.[1]);
    assert.deepEqual(fail, ['/fail', VALID, VALID]);
  });

  it('echoes nothing with requestId: false, and leaves unguarded servers alone', async () => {
    const g = await startGuarded((_req, res) => res.end('ok'), { requestId: false });
    servers.push(g);
    assert.deepEqual(idHeaders(await g.get('/', `X-Request-Id: ${VALID}\r\n`)), []);
    const plain = http.createServer((_req, res) => res.end('plain'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const port = (plain.address() as { port: number }).port;
    const r = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-request-id': VALID } });
    assert.equal(await r.text(), 'plain');
    assert.equal(r.headers.get('x-request-id'), null);
    await new Promise<void>((resolve) => plain.close(() => resolve()));
  });

  it('uses the echoed id on the failure line of a response closed without a head', async () => {
    const g = await startGuarded((_req, res) => res.socket?.destroy(), { answer: false });
    servers.push(g);
    await g.get('/drop', `X-Request-Id: ${VALID}\r\n`);
    const line = await g.waitLine(/code=H13/);
    assert.equal(line.request_id, VALID);
    assert.equal(fields(g.lines[0] ?? '').cause, 'app_destroy');
  });
});
