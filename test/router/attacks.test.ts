/**
 * The router under attack (issue 16): each attack is a regression test bounded in time (the
 * test's own timeout, generous for a loaded 2-core machine) and in memory (the bytes the
 * router holds, read from the router itself, never a timing).
 */

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { until } from '../helpers/wait.js';
import { get, type Harness, startHarness } from './harness.js';
import { rawClient } from './raw-client.js';

/** Write `chunk` `times` times as separate writes, stopping when the router closes. */
async function flood(port: number, chunk: string, times: number): Promise<{ answer: string }> {
  const socket = net.connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (d) => {
    answer += d.toString('latin1');
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  for (let i = 0; i < times && !socket.destroyed && !socket.writableEnded; i++) {
    if (!socket.write(chunk))
      await new Promise<void>((resolve) => {
        socket.once('drain', resolve);
        socket.once('close', resolve);
      });
  }
  await closed;
  return { answer };
}

describe('attacks on the client side', { timeout: 60_000 }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      limits: { maxHeadBytes: 64 * 1024, maxBufferedBytes: 100 * 1024 },
    });
  });
  after(async () => {
    await h.close();
  });

  for (const [name, unit] of [
    ['CRLF', '\r\n'],
    ['bare LF', '\n'],
  ] as const) {
    test(`a head of nothing but empty lines (${name}) is refused after 5, holding nothing`, async () => {
      // 1 MB in 1 KB writes: before the fix every write re-copied and re-parsed all of it.
      const { answer } = await flood(h.router.port, unit.repeat(512), 2048);
      assert.match(answer, /^HTTP\/1\.1 400 /);
      assert.equal(h.router.bufferedBytes(), 0);
      assert.equal(h.records.length, 0);
    });
  }

  test('empty lines one byte at a time: the same answer, across writes', async () => {
    const c = await rawClient(h.router.port);
    for (let i = 0; i < 12; i++) c.write(i % 2 === 0 ? '\r' : '\n');
    await c.closed();
    assert.match(c.received(), /^HTTP\/1\.1 400 /);
  });

  test('five CRLFs before a request line are accepted, split anywhere', async () => {
    const c = await rawClient(h.router.port);
    c.write('\r\n\r\n\r');
    c.write('\n\r\n\r\n');
    c.write(get('/ok'));
    await c.waitFor(/HTTP\/1\.1 200 OK/);
    c.socket.destroy();
  });

  test('a head within every per-line limit but over maxHeadBytes: 431, memory released', async () => {
    const line = `X-Pad: ${'p'.repeat(8000)}\r\n`;
    const c = await rawClient(h.router.port);
    c.write('GET / HTTP/1.1\r\nHost: a\r\n');
    for (let i = 0; i < 20; i++) c.write(line);
    await c.closed();
    assert.match(c.received(), /^HTTP\/1\.1 431 /);
    await until(() => h.router.bufferedBytes() === 0, 5_000, 'held bytes released');
  });

  test('many connections holding partial heads stay within maxBufferedBytes', async () => {
    const line = `X-Pad: ${'p'.repeat(8000)}\r\n`;
    const clients = await Promise.all(Array.from({ length: 4 }, () => rawClient(h.router.port)));
    let peak = 0;
    for (const c of clients) {
      c.write('GET / HTTP/1.1\r\nHost: a\r\n');
      for (let i = 0; i < 5; i++) c.write(line);
    }
    await until(
      () => {
        peak = Math.max(peak, h.router.bufferedBytes());
        return clients.some((c) => c.received().startsWith('HTTP/1.1 503'));
      },
      10_000,
      'a connection past the budget to be refused',
    );
    assert.ok(h.router.bufferedBytes() <= 100 * 1024, `${h.router.bufferedBytes()} bytes held`);
    assert.ok(peak <= 100 * 1024);
    for (const c of clients) c.socket.destroy();
    await until(() => h.router.bufferedBytes() === 0, 5_000, 'held bytes released');
    // The router still serves.
    assert.equal((await h.send(get('/ok'))).status, 200);
  });

  test('bytes pipelined behind a request count in maxBufferedBytes and are served after it', async () => {
    // /slow answers only when told: meanwhile each client pipelines a second request and
    // padding. Before, those bytes were held outside the budget (about 128 KiB a connection,
    // bufferedBytes() said 0).
    const waiting: net.Socket[] = [];
    const dyno = await recordingDyno((raw, socket) => {
      if (raw.endsWith('\r\n\r\n') && raw.includes('GET /slow')) waiting.push(socket);
    });
    const { staticDynos } = await import('../../src/router/index.js');
    const budget = 100 * 1024;
    const p = await startHarness({
      dynos: staticDynos([{ host: '127.0.0.1', port: dyno.port }]),
      limits: { maxBufferedBytes: budget },
      timers: { firstByte: 30_000, idle: 30_000 },
    });
    try {
      const pad = `X-Pad: ${'p'.repeat(7000)}\r\n`.repeat(8);
      const clients = await Promise.all(Array.from({ length: 3 }, () => rawClient(p.router.port)));
      for (const c of clients) {
        c.write(get('/slow'));
        c.write(get('/after', pad));
      }
      await until(() => waiting.length === 3, 10_000, 'three requests at the app');
      await until(() => p.router.bufferedBytes() > budget / 2, 10_000, 'pipelined bytes counted');
      for (const socket of waiting.splice(0))
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow');
      // The pipelined requests were kept, not dropped: each reaches the app once its turn comes.
      await until(
        () => dyno.connections.join('').split('GET /after').length - 1 === 3,
        10_000,
        'the pipelined requests at the app',
      );
      for (const c of clients) c.socket.destroy();
      await until(() => p.router.bufferedBytes() === 0, 5_000, 'held bytes released');
    } finally {
      await p.close();
      await dyno.close();
    }
  });

  test('a body sent while the request waits for a starting dyno counts in maxBufferedBytes', async () => {
    const { DynoTable } = await import('../../src/router/index.js');
    const dynos = new DynoTable();
    dynos.set({ name: 'web.1', host: '127.0.0.1', port: 1, state: 'starting' });
    const q = await startHarness({ dynos, timers: { bootQueue: 30_000 } });
    try {
      const c = await rawClient(q.router.port);
      c.write('POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n');
      c.write(Buffer.alloc(40_000, 120));
      // Before: held outside the budget, bufferedBytes() said 0.
      await until(() => q.router.bufferedBytes() >= 40_000, 10_000, 'the early body counted');
      c.socket.destroy();
      assert.equal((await q.record(0)).code, 'H27');
      assert.equal(q.router.bufferedBytes(), 0);
    } finally {
      await q.close();
    }
  });

  test('two connections streaming empty lines do not stop a third client', async () => {
    const attackers = [
      flood(h.router.port, '\r\n'.repeat(4096), 256),
      flood(h.router.port, '\n'.repeat(8192), 256),
    ];
    const res = await h.send(get('/ok'));
    assert.equal(res.status, 200);
    await Promise.all(attackers);
  });
});

/** A dyno that records every byte it receives per connection and answers with `answer`. */
async function recordingDyno(
  answer: (raw: string, socket: net.Socket) => void,
): Promise<{ port: number; connections: string[]; close(): Promise<void> }> {
  const connections: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const index = connections.push('') - 1;
    socket.on('data', (d) => {
      connections[index] += d.toString('latin1');
      answer(connections[index] as string, socket);
    });
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('attacks through the body and the pool', { timeout: 60_000 }, () => {
  test('chunk extensions are dropped and trailers reach the app only when valid as head fields', async () => {
    const dyno = await recordingDyno((raw, socket) => {
      if (raw.endsWith('\r\n\r\n') && raw.includes('0\r\n'))
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    });
    const { staticDynos } = await import('../../src/router/index.js');
    // Legacy: Router 2.0 logs no H26 (conformance.test.ts).
    const h = await startHarness({
      flavor: 'legacy',
      dynos: staticDynos([{ host: '127.0.0.1', port: dyno.port }]),
    });
    try {
      const head = 'POST /t HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';
      const ok = await h.send(`${head}3;a="x";b=y\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n`);
      assert.equal(ok.status, 200);
      const body = (dyno.connections.at(-1) as string).split('\r\n\r\n').slice(1).join('\r\n\r\n');
      assert.equal(body, '3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n');
      for (const [what, trailer] of [
        ['a request line as a trailer', 'GET /smuggled HTTP/1.1\r\n'],
        ['a control character in a trailer value', 'X: a\u0001b\r\n'],
        ['obs-fold in the trailer section', 'X: a\r\n b\r\n'],
        // RFC 9110 §6.5.1: framing and routing fields are not trailers; an app that merges
        // trailers into its headers would read a second framing or Host.
        ['Content-Length as a trailer', 'Content-Length: 1\r\n'],
        ['Transfer-Encoding as a trailer', 'transfer-encoding: chunked\r\n'],
        ['Host as a trailer', 'HOST: smuggled.example\r\n'],
      ] as const) {
        const n = h.records.length;
        const res = await h.send(`${head}3\r\nabc\r\n0\r\n${trailer}\r\n`);
        assert.equal(res.status, 400, what);
        const r = await h.record(n);
        assert.deepEqual([r.code, r.cause], ['H26', 'bad chunk'], what);
        assert.ok(
          !dyno.connections.some((c) =>
            /smuggled|\u0001|0\r\n(content-length|transfer-encoding)/i.test(c),
          ),
          what,
        );
      }
    } finally {
      await h.close();
      await dyno.close();
    }
  });

  test('codings applied before chunked reach the app (the body is theirs to undo)', async () => {
    const dyno = await recordingDyno((raw, socket) => {
      if (raw.endsWith('0\r\n\r\n')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    });
    const { staticDynos } = await import('../../src/router/index.js');
    const h = await startHarness({ dynos: staticDynos([{ host: '127.0.0.1', port: dyno.port }]) });
    try {
      const head = 'POST /z HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: GZIP, chunked\r\n\r\n';
      assert.equal((await h.send(`${head}3\r\nabc\r\n0\r\n\r\n`)).status, 200);
      // Before: forwarded as plain `chunked`, the app read gzip bytes as the body itself.
      assert.match(dyno.connections.at(-1) as string, /\r\nTransfer-Encoding: gzip, chunked\r\n/);
    } finally {
      await h.close();
      await dyno.close();
    }
  });

  for (const [what, request, head] of [
    ['a HEAD response', 'HEAD / HTTP/1.1\r\nHost: a\r\n\r\n', 'HTTP/1.1 200 OK'],
    // RFC 9110 §8.6: no Content-Length on a 204. An app that sends one may send a body too.
    ['a 204 with a Content-Length', get('/empty'), 'HTTP/1.1 204 No Content'],
  ] as const) {
    test(`Router 2.0 never reuses a connection after ${what} (the app may write a body)`, async () => {
      // What the app writes after the head is what a reused connection would deliver as the
      // next request's response: this app sends it exactly then, so no timing decides.
      const dyno = await recordingDyno((raw, socket) => {
        if (!raw.endsWith('\r\n\r\n')) return;
        const heads = raw.split('\r\n\r\n').length - 1;
        if (heads > 1) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged');
        else if (raw.startsWith(request.slice(0, 10)))
          socket.write(`${head}\r\nContent-Length: 37\r\n\r\n`);
        else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nreal');
      });
      const { staticDynos } = await import('../../src/router/index.js');
      const h = await startHarness({
        dynos: staticDynos([{ host: '127.0.0.1', port: dyno.port }]),
      });
      try {
        const c = await rawClient(h.router.port);
        c.write(request);
        await c.waitFor(/Content-Length: 37\r\n(.*\r\n)*\r\n$/);
        c.write(get('/next'));
        await c.waitFor(/\r\n\r\n(real|forged)$/);
        assert.ok(c.received().endsWith('real'), `the next client got the body after ${what}`);
        assert.equal(dyno.connections.length, 2, 'a fresh dyno connection for the next request');
        c.socket.destroy();
      } finally {
        await h.close();
        await dyno.close();
      }
    });
  }

  test('an app that never reads the request body: H15 (the dyno is idle), not H28 blaming the client', async () => {
    // The dyno reads nothing: the router's writes back up and it pauses the client.
    const held = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      held.add(socket);
      socket.pause();
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { staticDynos } = await import('../../src/router/index.js');
    const port = (server.address() as net.AddressInfo).port;
    const h = await startHarness({ dynos: staticDynos([{ host: '127.0.0.1', port }]) });
    try {
      const size = 64 * 1024 * 1024;
      const socket = net.connect(h.router.port, '127.0.0.1');
      socket.on('error', () => {});
      socket.write(`POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${size}\r\n\r\n`);
      const block = Buffer.alloc(64 * 1024, 120);
      const pump = async () => {
        for (let sent = 0; sent < size && !socket.destroyed; sent += block.length) {
          if (!socket.write(block))
            await new Promise<void>((resolve) => {
              socket.once('drain', resolve);
              socket.once('close', resolve);
            });
        }
      };
      void pump();
      const r = await h.record(0);
      assert.equal(r.code, 'H15');
      assert.equal(r.status, 503);
      socket.destroy();
    } finally {
      await h.close();
      // A paused socket never reads the router's FIN: close it from this side.
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

/**
 * Run `body` against a router whose one dyno answers each connection's first bytes with
 * `onRequest` (a buggy app, written raw), then close both.
 */
async function withRawApp(
  onRequest: (socket: net.Socket) => void,
  body: (h: Harness) => Promise<void>,
): Promise<void> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => onRequest(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { staticDynos } = await import('../../src/router/index.js');
  const port = (server.address() as net.AddressInfo).port;
  const h = await startHarness({ dynos: staticDynos([{ host: '127.0.0.1', port }]) });
  try {
    await body(h);
  } finally {
    await h.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('attacks from the app side', { timeout: 60_000 }, () => {
  test('endless 1xx heads to a client that does not read: the dyno is paused, H15', async () => {
    // A buggy app sends 103 Early Hints in a loop. Before the fix the router read them all
    // and queued them for a client that reads nothing (router memory grew ~40 MB/s).
    const cap = 64 * 1024 * 1024;
    let written = 0;
    const hint = `HTTP/1.1 103 Early Hints\r\nLink: <${'/x'.repeat(2000)}>\r\n\r\n`;
    const loop = async (socket: net.Socket) => {
      while (!socket.destroyed && written < cap) {
        written += hint.length;
        if (!socket.write(hint))
          await new Promise<void>((resolve) => {
            socket.once('drain', resolve);
            socket.once('close', resolve);
          });
      }
    };
    await withRawApp(
      (socket) => void loop(socket),
      async (h) => {
        const c = await rawClient(h.router.port);
        c.socket.pause();
        c.write(get('/hints'));
        // Paused, no byte moves for `idle`: H15. Without backpressure bytes kept moving until
        // the app had written all of `cap`.
        const r = await h.record(0);
        assert.equal(r.code, 'H15');
        assert.ok(written < cap / 4, `the app wrote ${written} bytes`);
        c.socket.destroy();
      },
    );
  });

  test('a status line the client could not read is H17, never relayed', async () => {
    const lines = ['HTTP/1.1 000 Zero', 'HTTP/1.1 200 O\u001b]0;owned\u0007K'];
    await withRawApp(
      (socket) => socket.write(`${lines.shift()}\r\nContent-Length: 2\r\n\r\nok`),
      async (h) => {
        for (let i = 0; i < 2; i++) {
          const res = await h.send(get('/'));
          assert.equal(res.status, 503);
          assert.doesNotMatch(res.received.toString('latin1'), /Zero|owned/);
          assert.equal((await h.record(i)).code, 'H17');
        }
      },
    );
  });

  test('Router 2.0: a chunked answer to an HTTP/1.0 client is de-chunked and closed', async () => {
    // An app that chunks its answer to the HTTP/1.0 request it was forwarded: relayed as is,
    // the client (which knows no chunked coding, RFC 9112 §6.1) read the framing as body.
    await withRawApp(
      (socket) =>
        socket.write(
          'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
        ),
      async (h) => {
        const c = await rawClient(h.router.port);
        c.write('GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n');
        await c.closed();
        const [head, body] = c.received().split('\r\n\r\n');
        assert.equal(body, 'hello');
        assert.doesNotMatch(head ?? '', /transfer-encoding/i);
        assert.equal((await h.record(0)).status, 200);
      },
    );
  });
});
