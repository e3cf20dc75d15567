/**
 * The live event stream: bounded subscribers (503 past --max-subscribers), and a subscriber
 * that stops reading is disconnected instead of holding memory or slowing the publisher.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LiveEvents } from '../../src/drain/live-events.js';
import { startDrain } from '../../src/drain/server.js';
import { until, withTimeout } from '../helpers/wait.js';
import { BASIC, PASSWORD, startDrainProcess } from './drain-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'h13-drain-live-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function openStream(url: string): Promise<IncomingMessage> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = get(
        `${url}/events`,
        { headers: { authorization: BASIC }, agent: false },
        resolve,
      );
      req.on('error', reject);
    }),
    10_000,
    'GET /events',
  );
}

describe('live events', () => {
  it('a stream outlives --request-timeout and gets keep-alive comments', async () => {
    const drain = await startDrain({
      port: 0,
      host: '127.0.0.1',
      dbPath: join(dir, 'beat.db'),
      password: PASSWORD,
      requestTimeoutMs: 500,
      headersTimeoutMs: 500,
      heartbeatMs: 100,
      log: () => {},
    });
    try {
      const res = await openStream(drain.url);
      assert.equal(res.statusCode, 200);
      let beats = 0;
      res.on('data', (chunk: Buffer) => {
        beats += chunk.toString('utf8').split(': keep-alive').length - 1;
      });
      // Twelve beats at 100 ms take longer than the 500 ms request timeout, whatever the load.
      await until(() => beats >= 12, 30_000, 'twelve keep-alive comments');
      assert.equal(res.destroyed, false, 'the stream is still open');
      res.destroy();
    } finally {
      await drain.close();
    }
  });

  it('takes --max-subscribers pages and answers 503 past them', async () => {
    const d = await startDrainProcess(join(dir, 'subs.db'), ['--max-subscribers', '2']);
    try {
      const a = await openStream(d.url);
      const b = await openStream(d.url);
      assert.equal(a.statusCode, 200);
      assert.equal(a.headers['content-type'], 'text/event-stream; charset=utf-8');
      assert.equal(b.statusCode, 200);
      const c = await openStream(d.url);
      assert.equal(c.statusCode, 503);
      c.resume();
      a.destroy();
      // A closed page frees its place.
      await until(
        async () => {
          const again = await openStream(d.url);
          again.destroy();
          return again.statusCode === 200;
        },
        20_000,
        'a place after one page left',
      );
      b.destroy();
    } finally {
      d.proc.kill();
    }
  });

  it("ends a session's streams on its logout and when its cookie expires, and only those", async () => {
    const live = new LiveEvents({
      maxSubscribers: 8,
      maxBufferedBytes: 64 * 1024,
      heartbeatMs: 50,
    });
    const farMs = Date.now() + 3_600_000;
    const sessions: Record<string, { nonce: string; expiresMs: number } | null> = {
      '/ended': { nonce: 'n-ended', expiresMs: farMs },
      '/expiring': { nonce: 'n-expiring', expiresMs: Date.now() + 300 },
      '/other': { nonce: 'n-other', expiresMs: farMs },
      '/basic': null,
    };
    const server = createServer((req, res) => {
      live.subscribe(res, null, sessions[req.url ?? ''] ?? null);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const open = (path: string) =>
      new Promise<IncomingMessage>((resolve, reject) =>
        get(`http://127.0.0.1:${port}${path}`, { agent: false }, resolve).on('error', reject),
      );
    try {
      const [ended, expiring, other, basic] = await Promise.all(
        ['/ended', '/expiring', '/other', '/basic'].map(open),
      );
      const streams = [ended, expiring, other, basic] as IncomingMessage[];
      const endedOf = streams.map((s) => {
        s.resume();
        return new Promise<void>((r) => s.on('end', () => r()));
      });
      await until(() => live.size === 4, 10_000, 'four subscribers');
      assert.deepEqual([...live.sessions()].sort(), ['n-ended', 'n-expiring', 'n-other']);
      assert.equal(live.endSession('n-ended'), 1);
      await withTimeout(endedOf[0] as Promise<void>, 10_000, 'the logged-out stream to end');
      await withTimeout(endedOf[1] as Promise<void>, 10_000, 'the expired stream to end');
      assert.equal(live.size, 2, 'the other session and the Basic stream stay');
      assert.equal(other?.readableEnded, false);
      assert.equal(basic?.readableEnded, false);
      for (const s of streams) s.destroy();
    } finally {
      live.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it('disconnects a subscriber that stops reading; publishing never waits for it', async () => {
    const live = new LiveEvents({
      maxSubscribers: 4,
      maxBufferedBytes: 64 * 1024,
      heartbeatMs: 60_000,
    });
    const server = createServer((_req, res) => {
      live.subscribe(res, null);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      // The stalled page: sends its request, then never reads a byte.
      const stalled = connect(port, '127.0.0.1');
      stalled.write('GET /events HTTP/1.1\r\nHost: x\r\n\r\n');
      stalled.pause();
      // A page that reads everything, which must keep getting events.
      let tail = '';
      const reader = await new Promise<IncomingMessage>((resolve, reject) =>
        get(`http://127.0.0.1:${port}/events`, { agent: false }, resolve).on('error', reject),
      );
      reader.on('data', (chunk: Buffer) => {
        tail = (tail + chunk.toString('latin1')).slice(-200);
      });
      await until(() => live.size === 2, 10_000, 'two subscribers');
      const big = 'x'.repeat(256 * 1024);
      let published = 0;
      // Each publish returns at once; the kernel's socket buffers fill, then Node's, then the
      // stalled subscriber passes the bound and is dropped. Bounded: 2 000 x 256 KiB.
      while (live.dropped === 0 && published < 2000) {
        live.publish('app', 'diagnosis', { big });
        published++;
        await new Promise((r) => setImmediate(r));
      }
      assert.equal(live.dropped, 1, `dropped after ${published} events`);
      assert.equal(live.size, 1, 'the reading page stays');
      live.publish('app', 'diagnosis', { after: true });
      await until(
        () => tail.includes('{"after":true}'),
        60_000,
        'the reading page gets the next event',
      );
      reader.destroy();
      stalled.destroy();
    } finally {
      live.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
