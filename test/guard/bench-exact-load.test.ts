import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { exactLoad } from '../../bench/guard/exact-load.js';

/** The instruction benchmark divides by this count, so it must be exact. */
describe('bench: exactLoad', () => {
  const servers: http.Server[] = [];
  after(() => {
    for (const s of servers) s.close();
  });

  async function serve(listener: http.RequestListener): Promise<number> {
    const server = http.createServer(listener);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  it('sends exactly the requests asked for, with the headers given, over kept-alive connections', async () => {
    let seen = 0;
    const ids = new Set<string | undefined>();
    const sockets = new Set<unknown>();
    const port = await serve((req, res) => {
      seen++;
      ids.add(req.headers['x-request-id'] as string | undefined);
      sockets.add(req.socket);
      // Bodies of several lengths, one split across writes.
      const body = 'x'.repeat(seen % 3 === 0 ? 70_000 : seen % 7);
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.slice(0, 1));
      res.end(body.slice(1));
    });
    await exactLoad({ port, requests: 53, connections: 4, headers: ['X-Request-Id: abc'] });
    assert.equal(seen, 53);
    assert.deepEqual([...ids], ['abc']);
    assert.equal(sockets.size, 4);
  });

  it('pauses after pauseAt answers, with nothing in flight, and goes on over the same connections', async () => {
    let seen = 0;
    const sockets = new Set<unknown>();
    const port = await serve((req, res) => {
      if (req.headers['x-probe'] === undefined) {
        seen++;
        sockets.add(req.socket);
      }
      res.writeHead(200, { 'content-length': 2 });
      res.end('ok');
    });
    // Round trips through the server while paused: a request sent during the pause would be
    // counted by then.
    const probe = () =>
      new Promise<void>((resolve, reject) => {
        http
          .get({ port, host: '127.0.0.1', headers: { 'x-probe': '1' }, agent: false }, (r) => {
            r.resume();
            r.on('end', resolve);
          })
          .on('error', reject);
      });
    const atPause: number[] = [];
    await exactLoad({
      port,
      requests: 40,
      connections: 3,
      pauseAt: 25,
      onPause: async () => {
        atPause.push(seen);
        for (let i = 0; i < 3; i++) await probe();
        atPause.push(seen);
      },
    });
    assert.deepEqual(atPause, [25, 25]);
    assert.equal(seen, 40);
    assert.equal(sockets.size, 3);
  });

  it('pauses with fewer answers than connections', async () => {
    let seen = 0;
    const port = await serve((_req, res) => {
      seen++;
      res.writeHead(200, { 'content-length': 0 });
      res.end();
    });
    let atPause = -1;
    await exactLoad({
      port,
      requests: 9,
      connections: 4,
      pauseAt: 2,
      onPause: () => {
        atPause = seen;
      },
    });
    assert.equal(atPause, 2);
    assert.equal(seen, 9);
  });

  it('rejects at once when the server closes a connection with answers still owed', async () => {
    let seen = 0;
    const port = await serve((req, res) => {
      if (++seen === 3) {
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { 'content-length': 0 });
      res.end();
    });
    await assert.rejects(
      exactLoad({ port, requests: 10, connections: 1, timeoutMs: 600_000 }),
      /closed a connection after 2 answers/,
    );
  });

  it('rejects a response that is not a 200', async () => {
    const port = await serve((_req, res) => {
      res.writeHead(503, { 'content-length': 0 });
      res.end();
    });
    await assert.rejects(exactLoad({ port, requests: 3, connections: 1 }), /unexpected response/);
  });

  it('rejects a response without Content-Length (it could not tell where it ends)', async () => {
    const port = await serve((_req, res) => {
      res.write('chunked');
      res.end();
    });
    await assert.rejects(exactLoad({ port, requests: 2, connections: 1 }), /Content-Length/);
  });
});
