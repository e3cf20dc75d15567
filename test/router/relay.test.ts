/**
 * The relayed response is byte-exact whichever way the router writes it: a head with a small
 * body arriving in the same read is copied into one Buffer (one write), a larger one goes out
 * as head + body (writev), and later reads are relayed as they come. Sizes straddle the 16 KiB
 * join limit in src/router/response-relay.ts; `bytes=` must count the relayed head and body.
 */

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { staticDynos } from '../../src/router/index.js';
import { get, type Harness, startHarness } from './harness.js';

const SIZES = [0, 1, 100, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 60_000];

/** A raw app: `GET /N` answers N patterned body bytes, head and body in one write. */
function patterned(n: number): Buffer {
  const body = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) body[i] = 97 + ((i * 7) % 26);
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
