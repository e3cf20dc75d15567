/**
 * Findings of the adversarial review of `h13 drain`, each kept as a regression test against a
 * real drain process on 127.0.0.1.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseWebhook } from '../../src/drain/alerts.js';
import { until, withTimeout } from '../helpers/wait.js';
import { BASIC, type DrainProcess, send, startDrainProcess } from './drain-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'h13-drain-attack-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const line = (i: number) =>
  `2026-03-02T10:15:05.${String(i).padStart(6, '0')}+00:00 app[web.1]: line ${i}`;

/** A request whose head is sent now and whose body is finished by `finish()`. */
function heldRequest(port: number, path: string, body: string) {
  const socket: Socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.setEncoding('utf8').on('data', (s: string) => (answer += s));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const bytes = Buffer.byteLength(body);
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${BASIC}\r\nContent-Type: text/plain\r\nContent-Length: ${bytes}\r\nConnection: close\r\n\r\n${body.slice(0, 1)}`,
  );
  return {
    finish: () => {
      if (!socket.destroyed) socket.end(body.slice(1));
    },
    answer: async () => {
      await withTimeout(closed, 10_000, `the answer to ${path}`);
      return answer;
    },
  };
}

describe('h13 drain under attack', () => {
  let d: DrainProcess;
  before(async () => {
    d = await startDrainProcess(join(dir, 'attack.db'), ['--max-apps', '3', '--app-rate', '10']);
  });
  after(() => d.proc.kill());

  it('new apps arriving together cannot pass --max-apps', async () => {
    const port = Number(new URL(d.url).port);
    const held = Array.from({ length: 12 }, (_, i) =>
      heldRequest(port, `/ingest/new-${i}`, line(i)),
    );
    // Answered after the drain has read the twelve heads sent before it.
    assert.equal((await send(d.url, { path: '/api/apps' })).status, 200);
    for (const h of held) h.finish();
    const answers = await Promise.all(held.map((h) => h.answer()));
    const statuses = answers.map((a) => /^HTTP\/1\.1 (\d{3})/.exec(a)?.[1]);
    assert.equal(statuses.filter((s) => s === '200').length, 3, statuses.join(' '));
    assert.equal(statuses.filter((s) => s === '403').length, 9, statuses.join(' '));
    const apps = (await send(d.url, { path: '/api/apps' })).json<{ apps: unknown[] }>().apps;
    assert.equal(apps.length, 3);
  });

  it('a batch larger than the burst pays for every line it carries', async () => {
    // new-0..new-2 hold the three places: this drain is restarted with room for more.
    d.proc.kill();
    d = await startDrainProcess(join(dir, 'rate.db'), ['--app-rate', '10']);
    const big = Array.from({ length: 100 }, (_, i) => line(i)).join('\n');
    const first = await send(d.url, { path: '/ingest/flood', body: big });
    assert.equal(first.status, 200, 'a full bucket admits one batch past the burst');
    const next = await send(d.url, { path: '/ingest/flood', body: line(1) });
    assert.equal(next.status, 429);
    // 100 lines at 10 a second: the bucket is about 80 lines in debt, not merely empty.
    assert.ok(Number(next.headers['retry-after']) >= 8, String(next.headers['retry-after']));
    const quiet = await send(d.url, { path: '/ingest/quiet', body: line(1) });
    assert.equal(quiet.status, 200, 'another app is still served');
  });

  it("another site's page cannot post lines with a browser's cached Basic credential", async () => {
    const forged =
      '2026-03-02T10:15:05.000000+00:00 heroku[router]: at=error code=H13 desc="Connection closed without response" method=GET path="/forged" host=a request_id=forged fwd="1" dyno=web.1 connect=0ms service=5ms status=503 bytes=0 protocol=https';
    // What a form on another site posts (enctype text/plain), as Chromium and an older browser send it.
    const posts: Array<Record<string, string>> = [
      {
        'content-type': 'text/plain',
        origin: 'https://evil.example',
        'sec-fetch-site': 'cross-site',
      },
      { 'content-type': 'text/plain', origin: 'https://evil.example' },
      { 'content-type': 'text/plain', 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of posts) {
      const r = await send(d.url, { path: '/ingest/csrf', headers, body: forged });
      assert.equal(r.status, 403, JSON.stringify(headers));
    }
    // A link to the API followed from a chat message is a read: nothing to refuse.
    const link = await send(d.url, {
      path: '/api/apps',
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    assert.equal(link.status, 200);
    assert.equal(
      (await send(d.url, { path: '/api/apps' }))
        .json<{ apps: Array<{ name: string }> }>()
        .apps.some((a) => a.name === 'csrf'),
      false,
    );
    // logplex and curl send neither header.
    const curl = await send(d.url, { path: '/ingest/csrf', body: forged });
    assert.equal(curl.status, 200);
  });
});

it('a webhook URL with credentials is refused at start, without echoing them', () => {
  // Before: accepted, then every alert failed with fetch's error, which logged the URL whole.
  assert.throws(
    () => parseWebhook('slack=https://hook:s3cret@127.0.0.1:1/x'),
    (err: Error) => /user or password/.test(err.message) && !err.message.includes('s3cret'),
  );
  assert.equal(parseWebhook('slack=https://127.0.0.1:1/services/T/B/token').form, 'slack');
});

describe('h13 drain: slow clients against --max-connections', () => {
  const MAX = 6;
  let d: DrainProcess;
  before(async () => {
    // A long headers timeout, so only the cap's own rule can make room.
    d = await startDrainProcess(join(dir, 'slow.db'), [
      '--max-connections',
      String(MAX),
      '--headers-timeout',
      '60s',
      '--request-timeout',
      '60s',
    ]);
  });
  after(() => d.proc.kill());

  it('connections sending their heads a byte at a time up to the cap do not lock out a sender', async () => {
    const port = Number(new URL(d.url).port);
    const slow: Socket[] = [];
    for (let i = 0; i < MAX; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      let text = '';
      s.setEncoding('utf8').on('data', (x: string) => (text += x));
      // One full request first proves the drain accepted this connection and counts it.
      s.write(`GET /api/apps HTTP/1.1\r\nHost: x\r\nAuthorization: ${BASIC}\r\n\r\n`);
      await until(() => text.includes('"apps"'), 5000, `connection ${i} accepted`);
      // Then the slowloris: the start of a head, and nothing more.
      s.write('POST /drain/slow HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      slow.push(s);
    }
    const closed = slow.map(
      (s) => new Promise<boolean>((resolve) => s.once('close', () => resolve(true))),
    );
    // The cap is full of stalled heads; a real sender still gets its batch stored.
    const r = await send(d.url, {
      path: '/ingest/real-sender',
      body: `${line(1)}\n`,
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(r.status, 200, r.text);
    // The connection that had waited longest made room; the others are still open.
    assert.equal(await withTimeout(closed[0] as Promise<boolean>, 5000, 'the oldest closed'), true);
    assert.deepEqual(
      slow.slice(1).map((s) => s.destroyed),
      new Array(MAX - 1).fill(false),
    );
    await d.proc.waitFor(/event=connections-closed evicted=1 refused=0 max=6/, 5000);
    for (const s of slow) s.destroy();
  });

  it('when every place has a request in progress, a new connection is closed at accept', async () => {
    const port = Number(new URL(d.url).port);
    // Live-event streams: each request stays in progress, and its answer's head proves it.
    const streams: Socket[] = [];
    for (let i = 0; i < MAX; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      let text = '';
      s.setEncoding('utf8').on('data', (x: string) => (text += x));
      s.write(`GET /events HTTP/1.1\r\nHost: x\r\nAuthorization: ${BASIC}\r\n\r\n`);
      await until(() => text.startsWith('HTTP/1.1 200'), 5000, `stream ${i} open`);
      streams.push(s);
    }
    const probe = connect(port, '127.0.0.1');
    let answer = '';
    probe.on('error', () => {});
    probe.setEncoding('utf8').on('data', (x: string) => (answer += x));
    probe.write(`GET /api/apps HTTP/1.1\r\nHost: x\r\nAuthorization: ${BASIC}\r\n\r\n`);
    await withTimeout(
      new Promise((resolve) => probe.once('close', resolve)),
      5000,
      'the probe closed',
    );
    assert.equal(answer, '', 'closed at accept, not answered');
    assert.deepEqual(
      streams.map((s) => s.destroyed),
      new Array(MAX).fill(false),
      'no request in progress was cut',
    );
    for (const s of streams) s.destroy();
    await until(
      async () =>
        (await send(d.url, { path: '/api/apps' }).catch(() => ({ status: 0 }))).status === 200,
      5000,
      'served again',
    );
  });
});

describe('h13 drain: wrong credentials, per address and over all addresses', () => {
  let d: DrainProcess;
  before(async () => {
    // $DYNO: behind Heroku's router, the address is the last X-Forwarded-For entry.
    d = await startDrainProcess(join(dir, 'guess.db'), [], {
      H13_DRAIN_PASSWORD: 'test-password-1234',
      DYNO: 'web.1',
    });
  });
  after(() => d.proc.kill());

  const basic = (password: string) => `Basic ${Buffer.from(`h13:${password}`).toString('base64')}`;
  const from = (address: string, auth: string) =>
    send(d.url, {
      path: '/api/apps',
      auth,
      headers: { 'x-forwarded-for': `10.9.9.9, ${address}` },
    });

  it('a stale password resent by a drain is not guessing; ten new guesses from one address are', async () => {
    for (let i = 0; i < 30; i++)
      assert.equal((await from('192.0.2.50', basic('old-password'))).status, 401);
    assert.equal((await from('192.0.2.50', BASIC)).status, 200, 'the same address, right password');
    for (let i = 0; i < 10; i++)
      assert.equal((await from('192.0.2.1', basic(`guess-${i}`))).status, 401);
    const blocked = await from('192.0.2.1', BASIC);
    assert.equal(blocked.status, 429, 'not even the right password is checked');
    assert.match(String(blocked.headers['retry-after']), /^\d+$/);
    const form = await send(d.url, {
      path: '/login',
      auth: null,
      headers: {
        'x-forwarded-for': '192.0.2.1',
        'sec-fetch-site': 'same-origin',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'user=h13&password=test-password-1234',
    });
    assert.equal(form.status, 429, 'the login form shares the limit');
    assert.equal((await from('192.0.2.2', BASIC)).status, 200, 'another address is served');
  });

  it('past the global limit, only addresses that used the right password recently are checked', async () => {
    // 198.51.100.7 stands for logplex: it has sent the right credential.
    assert.equal((await from('198.51.100.7', BASIC)).status, 200);
    // 11 distinct wrong ones so far (the stale one and 10 guesses above); 39 more, spread
    // over 5 addresses (under 10 each), reach the limit of 50.
    for (let i = 0; i < 39; i++)
      assert.equal((await from(`203.0.113.${i % 5}`, basic(`spread-${i}`))).status, 401);
    assert.equal((await from('203.0.113.200', BASIC)).status, 429, 'a new address waits');
    assert.equal((await from('198.51.100.7', BASIC)).status, 200, 'logplex is still served');
    await d.proc.waitFor(/status=429 path=\/api\/apps reason=global-limit/, 5000);
  });
});
