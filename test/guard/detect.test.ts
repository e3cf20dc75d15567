import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { guardStats } from '../../src/guard/index.js';
import { withTimeout } from '../helpers/wait.js';
import { type Guarded, header, startGuarded } from './helpers.js';

const THIS_FILE = /detect\.test\.js/;

describe('guard detection: responses that end unfinished', () => {
  const servers: Guarded[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  it('answers 500 when the app destroys a socket that owes a response, naming the caller', async () => {
    const g = await startGuarded((req) => {
      req.socket.destroy();
    });
    servers.push(g);
    const r = await g.get('/destroy');
    assert.equal(r.ending, 'answered');
    assert.equal(r.status, 500);
    assert.equal(header(r, 'connection'), 'close');
    const line = await g.waitLine(/event=answered/);
    assert.equal(line.at, 'error');
    assert.equal(line.status, '500');
    assert.equal(line.cause, 'app_destroy');
    assert.equal(line.path, '/destroy');
    assert.match(line.stack ?? '', THIS_FILE);
    assert.equal(line.request_id, header(r, 'x-request-id'));
  });

  it('with answer:false logs code=H13 with the stack of the destroy call', async () => {
    const g = await startGuarded(
      (req) => {
        setImmediate(() => req.socket.destroy());
      },
      { answer: false },
    );
    servers.push(g);
    const before = guardStats().h13;
    const r = await g.get('/gone');
    assert.equal(r.ending, 'silent');
    const line = await g.waitLine(/code=H13/);
    assert.equal(line.at, 'error');
    assert.equal(line.desc, 'Connection closed without response');
    assert.equal(line.method, 'GET');
    assert.equal(line.path, '/gone');
    assert.equal(line.cause, 'app_destroy');
    assert.match(line.stack ?? '', THIS_FILE);
    assert.match(line.elapsed ?? '', /^\d+$/);
    assert.equal(guardStats().h13, before + 1);
  });

  it('logs code=H18 for a response destroyed after its head went out', async () => {
    const g = await startGuarded((_req, res) => {
      res.writeHead(200, { 'content-length': 100 });
      res.write('part', () => res.destroy());
    });
    servers.push(g);
    const r = await g.get('/partial');
    assert.equal(r.ending, 'truncated');
    const line = await g.waitLine(/code=H18/);
    assert.equal(line.desc, 'Server Request Interrupted');
    assert.equal(line.status, '200');
    assert.equal(line.cause, 'app_destroy');
    assert.match(line.stack ?? '', THIS_FILE);
  });

  it('answers 503 on a socket timeout nobody handles, and explains it', async () => {
    const g = await startGuarded((req) => {
      req.socket.setTimeout(50);
    });
    servers.push(g);
    const r = await g.get('/socket-timeout');
    assert.equal(r.status, 503);
    const line = await g.waitLine(/event=answered/);
    assert.equal(line.cause, 'socket_timeout');
  });

  it('with answer:false names a socket timeout as the cause of the H13', async () => {
    const g = await startGuarded(
      (req) => {
        req.socket.setTimeout(50);
      },
      { answer: false },
    );
    servers.push(g);
    const r = await g.get('/socket-timeout');
    assert.equal(r.ending, 'silent');
    const line = await g.waitLine(/code=H13/);
    assert.equal(line.cause, 'socket_timeout');
  });

  it('keeps a client that aborts mid-body apart (H27, at=info, not error)', async () => {
    let bodyStarted: () => void = () => {};
    const started = new Promise<void>((r) => {
      bodyStarted = r;
    });
    const g = await startGuarded((req) => {
      req.once('data', () => bodyStarted());
      req.resume();
    });
    servers.push(g);
    const socket = net.connect(g.port, '127.0.0.1');
    await withTimeout(new Promise((r) => socket.once('connect', r)), 2000, 'connect');
    socket.write('POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc');
    // Abort once the server is reading the body, so the request is mid-body for certain.
    await withTimeout(started, 2000, 'the body to start arriving');
    socket.destroy();
    const line = await g.waitLine(/code=H27/);
    assert.equal(line.at, 'info');
    assert.match(line.cause ?? '', /^client_(aborted|reset)$/);
    assert.equal(
      g.lines.some((l) => /at=error/.test(l)),
      false,
    );
  });

  it('counts a FIN after a complete request apart (ambiguous, at=warning)', async () => {
    const g = await startGuarded(() => {});
    servers.push(g);
    const before = guardStats().clientFinAfterRequest;
    const r = await g.raw('GET /fin HTTP/1.1\r\nHost: t\r\n\r\n', 3000).catch(() => null);
    assert.notEqual(r, null);
    const socket = net.connect(g.port, '127.0.0.1');
    await withTimeout(new Promise((res) => socket.once('connect', res)), 2000, 'connect');
    socket.end('GET /fin HTTP/1.1\r\nHost: t\r\n\r\n');
    const line = await g.waitLine(/cause=client_fin_after_request/);
    assert.equal(line.code, 'H27');
    assert.equal(line.at, 'warning');
    assert.equal(guardStats().clientFinAfterRequest, before + 1);
    socket.destroy();
  });

  it('logs a pre-request close: bytes read, none written, destroyed by the app', async () => {
    const g = await startGuarded((_req, res) => res.end('ok'));
    servers.push(g);
    g.server.on('connect', (_req, socket: net.Socket) => socket.destroy());
    const r = await g.raw('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n');
    assert.equal(r.ending, 'silent');
    const line = await g.waitLine(/event=pre_request_close/);
    assert.equal(line.code, 'H13');
    assert.match(line.stack ?? '', THIS_FILE);
    assert.match(line.bytes_read ?? '', /^\d+$/);
  });

  it('writes nothing for normal requests', async () => {
    const g = await startGuarded((_req, res) => res.end('ok'));
    servers.push(g);
    for (let i = 0; i < 3; i++) {
      const r = await g.get('/');
      assert.equal(r.status, 200);
    }
    assert.deepEqual(g.lines, []);
  });
});
