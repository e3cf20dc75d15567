/**
 * What the router answers itself before the app stage (never forwarded, no router line),
 * the headers it adds and removes both ways (spec §3), limits, keep-alive and pipelining.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { get, type Harness, startHarness, UUID } from './harness.js';
import { rawClient } from './raw-client.js';

function header(raw: string, name: string): string[] {
  const out: string[] = [];
  for (const line of raw.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).toLowerCase() === name.toLowerCase())
      out.push(line.slice(colon + 1).trim());
  }
  return out;
}

describe('requests the router refuses before the app stage', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  const refusals: ReadonlyArray<readonly [string, string | (() => string), number]> = [
    [
      'request line over 8192 bytes',
      () => `GET /${'a'.repeat(8200)} HTTP/1.1\r\nHost: a\r\n\r\n`,
      414,
    ],
    ['header line over 8192 bytes', () => get('/', `X-Big: ${'b'.repeat(8200)}\r\n`), 400],
    ['more than 1000 headers', () => get('/', 'X-A: 1\r\n'.repeat(1001)), 400],
    ['missing Host', 'GET / HTTP/1.1\r\n\r\n', 400],
    ['conflicting Content-Length', get('/', 'Content-Length: 1\r\nContent-Length: 2\r\n'), 400],
    ['a Content-Length list (vegur_validate_headers)', get('/', 'Content-Length: 10,10\r\n'), 400],
    ['HTTP/1.0 without Host (vegur_validate_headers)', 'GET / HTTP/1.0\r\n\r\n', 400],
    ['a bare-LF head (cowboyku)', 'GET / HTTP/1.1\nHost: a\n\n', 400],
    ['6 empty lines before the request line (cowboyku)', () => '\r\n'.repeat(6) + get('/'), 400],
    ['header name over 1000 bytes', () => get('/', `${'N'.repeat(1001)}: v\r\n`), 400],
    ['obs-fold', get('/', 'X-A: 1\r\n  folded\r\n'), 400],
    ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505],
    ['CONNECT', 'CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n', 405],
  ];
  for (const [what, bytes, status] of refusals) {
    test(`${what} → ${status}, not forwarded, no line`, async () => {
      const seen = h.app?.requests.length;
      const res = await h.send(typeof bytes === 'function' ? bytes() : bytes);
      assert.equal(res.status, status);
      assert.equal(res.head?.headers.find(([k]) => k === 'Connection')?.[1], 'close');
      assert.equal(h.app?.requests.length, seen);
      assert.equal(h.records.length, 0);
    });
  }

  test('no complete head within clientHead → 408, no line', async () => {
    const c = await rawClient(h.router.port);
    c.write('GET / HTTP/1.1\r\nHost: a\r\n');
    await c.closed();
    assert.match(c.received(), /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.equal(h.records.length, 0);
  });

  test('an idle connection is closed after clientHead without an answer', async () => {
    const c = await rawClient(h.router.port);
    await c.closed();
    assert.equal(c.received(), '');
    assert.equal(h.records.length, 0);
  });

  test('limits: a request line and a header line of exactly 8192 bytes are forwarded', async () => {
    const target = `/ok?${'q'.repeat(8192 - 'GET /ok? HTTP/1.1'.length)}`;
    const res = await h.send(`GET ${target} HTTP/1.1\r\nHost: app.test\r\n\r\n`);
    assert.equal(res.status, 200);
    const value = 'v'.repeat(8192 - 'X-Long: '.length);
    const res2 = await h.send(get('/ok', `X-Long: ${value}\r\n`));
    assert.equal(res2.status, 200);
    assert.equal(header(h.app?.requests.at(-1)?.raw ?? '', 'x-long')[0], value);
    assert.equal(h.records.length, 2);
    await h.drained(true);
  });
});

describe('headers (spec §3)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  test('request headers: Heroku adds its own and removes hop-by-hop ones', async () => {
    const n = h.records.length;
    const before = Date.now();
    const res = await h.send(
      get(
        '/ok',
        'X-Request-Id: client-chosen-id-0123456789\r\n' +
          'X-Forwarded-For: 203.0.113.9\r\nVia: 1.0 corp-proxy\r\n' +
          'Connection: keep-alive, X-Hop\r\nX-Hop: drop me\r\nKeep-Alive: timeout=5\r\n' +
          'TE: trailers\r\nProxy-Authorization: Basic eA==\r\nX-Forwarded-Proto: https\r\n' +
          'X-Forwarded-Port: 443\r\nX-Request-Start: 1\r\nConnect-Time: 99\r\n' +
          'Total-Route-Time: 99\r\nX-Kept: yes\r\n',
      ),
    );
    assert.equal(res.status, 200);
    const raw = h.app?.requests.at(-1)?.raw ?? '';
    const r = await h.record(n);
    assert.deepEqual(header(raw, 'x-request-id'), ['client-chosen-id-0123456789']);
    assert.equal(r.requestId, 'client-chosen-id-0123456789');
    assert.deepEqual(header(raw, 'x-forwarded-for'), ['203.0.113.9, 127.0.0.1']);
    assert.equal(r.fwd, '203.0.113.9, 127.0.0.1');
    assert.deepEqual(header(raw, 'x-forwarded-proto'), ['http']);
    assert.deepEqual(header(raw, 'x-forwarded-port'), [String(h.router.port)]);
    const start = Number(header(raw, 'x-request-start')[0]);
    assert.ok(start >= before && start <= Date.now(), `X-Request-Start ${start}`);
    assert.deepEqual(header(raw, 'via'), ['1.0 corp-proxy, 1.1 heroku-router']);
    assert.match(header(raw, 'connect-time')[0] ?? '', /^\d+$/);
    assert.match(header(raw, 'total-route-time')[0] ?? '', /^\d+$/);
    assert.deepEqual(header(raw, 'connect-time').length, 1);
    for (const gone of ['connection', 'x-hop', 'keep-alive', 'te', 'proxy-authorization'])
      assert.deepEqual(header(raw, gone), [], `${gone} is not forwarded`);
    assert.deepEqual(header(raw, 'x-kept'), ['yes']);
    assert.deepEqual(header(raw, 'host'), ['app.test']);
  });

  test('an invalid X-Request-Id is replaced by a UUID, sent and logged', async () => {
    const n = h.records.length;
    await h.send(get('/ok', 'X-Request-Id: short\r\n'));
    const r = await h.record(n);
    assert.match(r.requestId ?? '', UUID);
    assert.deepEqual(header(h.app?.requests.at(-1)?.raw ?? '', 'x-request-id'), [r.requestId]);
  });

  test('Expect: 100-continue is answered by the router and not forwarded', async () => {
    const n = h.records.length;
    const seen = h.app?.requests.length ?? 0;
    const c = await rawClient(h.router.port);
    c.write(
      'POST /ok HTTP/1.1\r\nHost: app.test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n',
    );
    await c.waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
    c.write('hello');
    await c.waitFor(/\r\n\r\nzz$/);
    assert.equal(h.app?.requests.length, seen + 1);
    assert.deepEqual(header(h.app?.requests.at(-1)?.raw ?? '', 'expect'), []);
    assert.equal((await h.record(n)).status, 200);
    c.socket.destroy();
  });

  test('response headers: Via appended, Date/Server added, hop-by-hop removed', async () => {
    const res = await h.send(get('/resp-headers'));
    assert.equal(res.status, 200);
    const headers = res.head?.headers ?? [];
    const names = headers.map(([k]) => k.toLowerCase());
    for (const gone of ['connection', 'keep-alive', 'x-hop', 'proxy-authorization'])
      assert.ok(!names.includes(gone), `${gone} is not relayed`);
    const value = (k: string) => headers.filter(([n]) => n.toLowerCase() === k).map(([, v]) => v);
    assert.deepEqual(value('via'), ['1.0 upstream, 1.1 heroku-router']);
    assert.deepEqual(value('server'), ['Heroku']);
    assert.equal(value('date').length, 1);
    assert.deepEqual(value('x-kept'), ['yes']);
  });

  test('keep-alive and pipelining: answers in order on one connection, one line each', async () => {
    const n = h.records.length;
    const c = await rawClient(h.router.port);
    c.write(get('/ok?size=3') + get('/chunked-ok') + get('/ok?size=4'));
    await c.waitFor(/zzzz$/);
    const text = c.received();
    assert.equal(text.match(/HTTP\/1\.1 200 OK/g)?.length, 3);
    assert.ok(text.indexOf('zzz\r\n') < text.indexOf('hello') || text.includes('zzzHTTP'));
    await h.record(n + 2);
    assert.deepEqual(
      h.records.slice(n).map((r) => r.path),
      ['/ok?size=3', '/chunked-ok', '/ok?size=4'],
    );
    c.socket.end();
    await c.closed();
  });

  test('a request body (Content-Length and chunked) reaches the app whole', async () => {
    const n = h.records.length;
    const res = await h.send(
      'POST /ok HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    );
    assert.equal(res.status, 200);
    const res2 = await h.send(
      'POST /ok HTTP/1.1\r\nHost: app.test\r\nContent-Length: 4\r\n\r\nabcd',
    );
    assert.equal(res2.status, 200);
    await h.record(n + 1);
    assert.deepEqual(
      h.records.slice(n).map((r) => r.at),
      ['info', 'info'],
    );
    await h.drained(true);
  });
});

describe('request smuggling and framing (review findings)', () => {
  for (const flavor of ['2', 'legacy'] as const) {
    test(`router ${flavor}: Connection cannot strip the framing headers (no hidden second request)`, async () => {
      const h = await startHarness({ flavor });
      try {
        const hidden = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
        for (const token of ['content-length', 'Content-Length, close', 'host']) {
          const res = await h.send(
            `POST /ok HTTP/1.1\r\nHost: app.test\r\nConnection: ${token}\r\nContent-Length: ${hidden.length}\r\n\r\n${hidden}`,
          );
          assert.equal(res.status, 200, token);
          const seen = h.app?.requests.at(-1);
          assert.equal(seen?.path, '/ok');
          assert.deepEqual(header(seen?.raw ?? '', 'content-length'), [String(hidden.length)]);
          assert.deepEqual(header(seen?.raw ?? '', 'host'), ['app.test']);
        }
        const chunked = await h.send(
          'POST /ok HTTP/1.1\r\nHost: app.test\r\nConnection: transfer-encoding\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
        );
        assert.equal(chunked.status, 200);
        assert.deepEqual(header(h.app?.requests.at(-1)?.raw ?? '', 'transfer-encoding'), [
          'chunked',
        ]);
        assert.ok(
          !h.app?.requests.some((r) => r.path === '/smuggled'),
          'the app saw a hidden request',
        );
      } finally {
        await h.close();
      }
    });
  }

  test('identical repeated Content-Length values reach the app as one header', async () => {
    const h = await startHarness();
    try {
      const res = await h.send(
        'POST /ok HTTP/1.1\r\nHost: app.test\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc',
      );
      assert.equal(res.status, 200);
      assert.deepEqual(header(h.app?.requests.at(-1)?.raw ?? '', 'content-length'), ['3']);
    } finally {
      await h.close();
    }
  });

  test('a 101 to a request that asked for no upgrade is H17, not a tunnel', async () => {
    const h = await startHarness();
    try {
      const n = h.records.length;
      const res = await h.send(get('/upgrade'));
      assert.equal(res.status, 503);
      const r = await h.record(n);
      assert.equal(r.code, 'H17');
    } finally {
      await h.close();
    }
  });

  test('a response with Transfer-Encoding and Content-Length is relayed without the Content-Length', async () => {
    const h = await startHarness();
    try {
      const res = await h.send(get('/te-and-cl'));
      assert.equal(res.ending, 'answered');
      assert.equal(res.body.toString(), '3\r\nabc\r\n0\r\n\r\n');
      assert.equal(
        res.head?.headers.filter(([k]) => k.toLowerCase() === 'content-length').length,
        0,
      );
    } finally {
      await h.close();
    }
  });

  test('Expect: 100-continue from an HTTP/1.0 client gets no 100 (RFC 9110 §10.1.1)', async () => {
    const h = await startHarness();
    try {
      const res = await h.send(
        'POST /ok HTTP/1.0\r\nHost: app.test\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi',
      );
      assert.deepEqual(res.interim, []);
      assert.equal(res.status, 200);
    } finally {
      await h.close();
    }
  });
});

describe('heads that arrive a few bytes at a time', () => {
  test('a head sent byte by byte (CR and LF in separate writes) is read once and forwarded', async () => {
    const h = await startHarness();
    try {
      const n = h.records.length;
      const c = await rawClient(h.router.port);
      c.socket.setNoDelay(true);
      const head = `GET /ok?size=2 HTTP/1.1\r\nHost: app.test\r\nX-Pad: ${'p'.repeat(3000)}\r\n\r\n`;
      for (const byte of Buffer.from(head)) {
        await new Promise<void>((resolve) => c.socket.write(Buffer.of(byte), () => resolve()));
      }
      await c.waitFor(/\r\n\r\nzz$/);
      assert.match(c.received(), /^HTTP\/1\.1 200 OK\r\n/);
      assert.equal((await h.record(n)).path, '/ok?size=2');
      assert.equal(h.app?.requests.at(-1)?.path, '/ok?size=2');
      c.socket.destroy();
    } finally {
      await h.close();
    }
  });

  test('a header line growing past 8192 bytes in small pieces is refused with 400', async () => {
    const h = await startHarness();
    try {
      const c = await rawClient(h.router.port);
      c.write('GET / HTTP/1.1\r\nHost: app.test\r\nX-Long: ');
      for (let i = 0; i < 10; i++) c.write('a'.repeat(1000));
      await c.waitFor(/^HTTP\/1\.1 400 /);
      await c.closed();
    } finally {
      await h.close();
    }
  });
});

describe('Router 2.0 pool', () => {
  test('keep-alive: requests reuse one dyno connection', async () => {
    const h = await startHarness();
    try {
      for (let i = 0; i < 3; i++) assert.equal((await h.send(get('/ok'))).status, 200);
      assert.equal(h.app?.connections(), 1);
      assert.deepEqual(h.router.openSockets().dyno, 1);
    } finally {
      await h.close();
    }
  });

  // The keep-alive race as Heroku logs it: Keepalives section of HTTP Routing, help article
  // Y6M4QI4V, and opencollective-api#12160 (500 of 500 race H18s were POSTs, 503 bytes=567).
  test('the keep-alive race, POST: H18 sock=backend 503 bytes=567, not retried', async () => {
    const h = await startHarness();
    try {
      assert.equal((await h.send(get('/race-arm'))).status, 200);
      const res = await h.send(
        'POST /ok HTTP/1.1\r\nHost: app.test\r\nContent-Length: 2\r\n\r\nhi',
      );
      assert.equal(res.status, 503, 'no silent retry of a POST');
      const r = await h.record(1);
      assert.deepEqual([r.code, r.sock, r.status, r.bytes], ['H18', 'backend', 503, 567]);
      assert.equal(h.app?.connections(), 1, 'the request went on the pooled connection');
    } finally {
      await h.close();
    }
  });

  test('the keep-alive race, GET: retried once on a fresh connection, one info line', async () => {
    const h = await startHarness();
    try {
      assert.equal((await h.send(get('/race-arm'))).status, 200);
      const res = await h.send(get('/ok'));
      assert.equal(res.status, 200);
      const r = await h.record(1);
      assert.deepEqual([r.at, r.code, r.status], ['info', null, 200]);
      assert.equal(h.records.length, 2, 'one line for the retried request');
      assert.equal(h.app?.connections(), 2, 'the retry went on a new connection');
    } finally {
      await h.close();
    }
  });

  test('idle pooled connections are closed after poolIdle', async () => {
    const h = await startHarness({ timers: { poolIdle: 30 } });
    try {
      assert.equal((await h.send(get('/ok'))).status, 200);
      await h.drained();
      assert.equal(h.app?.open(), 0);
    } finally {
      await h.close();
    }
  });
});

describe('legacy router', () => {
  test('a new connection per request with Connection: close; protocol=http, Via vegur', async () => {
    const h = await startHarness({ flavor: 'legacy' });
    try {
      for (let i = 0; i < 2; i++) assert.equal((await h.send(get('/ok'))).status, 200);
      assert.equal(h.app?.connections(), 2);
      const raw = h.app?.requests.at(-1)?.raw ?? '';
      assert.deepEqual(header(raw, 'connection'), ['close']);
      assert.deepEqual(header(raw, 'via'), ['1.1 vegur']);
      const res = await h.send(get('/destroy'));
      assert.equal(res.status, 503);
      await h.record(2);
      assert.match(
        h.lines[2] as string,
        / dyno=web\.1 connect=\d+ms service=\d+ms status=503 bytes=0 protocol=http$/,
      );
      assert.match(h.lines[0] as string, / status=200 bytes=\d+ protocol=http$/);
      assert.equal(h.records[0]?.tls, null);
      await h.drained();
    } finally {
      await h.close();
    }
  });
});
