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
