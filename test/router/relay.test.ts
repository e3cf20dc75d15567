/**
 * The relayed response is byte-exact whichever way the router writes it: a head with a small
 * body arriving in the same read is copied into one Buffer (one write), a larger one goes out
 * as head + body (writev), and later reads are relayed as they come. Sizes straddle the 16 KiB
 * join limit in src/router/response-relay.ts; `bytes=` must count the relayed head and body.
 *
 * A body larger than every socket buffer, sent to a client that does not read, makes the
 * router queue writes, pause the dyno and resume it once the client drains; the bytes must
 * arrive intact. (That a queued view of the dyno read buffer is never overwritten is proven
 * deterministically in dyno-pool.test.ts.)
 */

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { staticDynos } from '../../src/router/index.js';
import { receiveBytes, until } from '../helpers/wait.js';
import { get, type Harness, startHarness } from './harness.js';

const SIZES = [0, 1, 100, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 60_000];

/**
 * A raw app: `GET /N` answers N patterned body bytes, head and body in one write. The pattern
 * never repeats at a short period, so bytes read into the wrong place cannot match by chance.
 */
function patterned(n: number): Buffer {
  const body = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) body[i] = 97 + ((i * 7 + (i >>> 10) * 3 + (i >>> 17)) % 26);
  return body;
}

let app: net.Server;
let h: Harness;

before(async () => {
  app = net.createServer((socket) => {
    let seen = '';
    socket.on('data', (d) => {
      seen += d.toString('latin1');
      let end = seen.indexOf('\r\n\r\n');
      while (end >= 0) {
        const coding = /^GET \/te\/(\w+)/.exec(seen)?.[1];
        if (coding !== undefined) {
          // Both framings at once (RFC 9112 §6.3: the router must relay only one).
          const body = coding === 'chunked' ? '5\r\nhello\r\n0\r\n\r\n' : 'hello';
          socket.end(
            `HTTP/1.1 200 OK\r\nTransfer-Encoding: ${coding}\r\nContent-Length: 5\r\n\r\n${body}`,
          );
          return;
        }
        const n = Number(/^GET \/(\d+)/.exec(seen)?.[1] ?? 0);
        seen = seen.slice(end + 4);
        const head = `HTTP/1.1 200 OK\r\nContent-Length: ${n}\r\nX-Size: ${n}\r\n\r\n`;
        socket.write(Buffer.concat([Buffer.from(head, 'latin1'), patterned(n)]));
        end = seen.indexOf('\r\n\r\n');
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  const { port } = app.address() as net.AddressInfo;
  h = await startHarness({ dynos: staticDynos([{ host: '127.0.0.1', port }]) });
});

after(async () => {
  await h.close();
  await new Promise<void>((resolve) => app.close(() => resolve()));
});

for (const [i, n] of SIZES.entries()) {
  test(`a ${n}-byte body is relayed byte for byte and counted`, async () => {
    const res = await h.send(get(`/${n}`));
    assert.equal(res.ending, 'answered');
    assert.equal(res.status, 200);
    assert.equal(res.body.length, n);
    assert.ok(res.body.equals(patterned(n)), 'body bytes differ');
    const record = await h.record(i);
    assert.equal(record.at, 'info');
    assert.equal(record.bytes, res.bytesReceived, 'bytes= is what the client received');
  });
}

test('Transfer-Encoding with Content-Length: only Transfer-Encoding reaches the client', async () => {
  for (const coding of ['chunked', 'gzip']) {
    const res = await h.send(get(`/te/${coding}`));
    assert.equal(res.status, 200, coding);
    const names = (res.head?.headers ?? []).map(([name]) => name.toLowerCase());
    assert.ok(names.includes('transfer-encoding'), coding);
    assert.ok(!names.includes('content-length'), `${coding}: Content-Length relayed too`);
    assert.equal(res.body.toString('latin1').includes('hello'), true, coding);
  }
});

test('a body larger than the socket buffers, to a client that waits: paused, resumed, intact', async () => {
  const n = 48 * 1024 * 1024;
  const { port } = app.address() as net.AddressInfo;
  const dynoSockets: net.Socket[] = [];
  // The app builds the body on this test's own event loop; on a loaded machine that can take
  // longer than the harness's short H12 timer, which would end the test as an H12 instead.
  const slow = await startHarness({
    timers: { firstByte: 30_000, idle: 30_000 },
    dynos: staticDynos([{ host: '127.0.0.1', port }]),
    connect: (host, dynoPort, onread) => {
      const socket = net.connect({ host, port: dynoPort, onread });
      dynoSockets.push(socket);
      return socket;
    },
  });
  const client = net.connect(slow.router.port, '127.0.0.1');
  try {
    client.pause();
    client.write(get(`/${n}`));
    // The router pauses its dyno socket only after a write to the client was queued.
    await until(() => dynoSockets[0]?.isPaused() === true, 20_000, 'the router to pause the dyno');
    const whole = receiveBytes(client, n, 20_000, 'the whole body');
    client.resume();
    const bytes = await whole;
    const bodyStart = bytes.indexOf('\r\n\r\n') + 4;
    assert.ok(bytes.subarray(bodyStart).equals(patterned(n)), 'body bytes differ');
  } finally {
    client.destroy();
    await slow.close();
  }
});
