/**
 * One test per router code: the client's view and the exact router line (field order,
 * quoting, empty fields), with run-dependent values (request id, timings) checked for sanity.
 */

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ERROR_PAGE_BYTES } from '../../src/router/error-page.js';
import { DynoTable } from '../../src/router/index.js';
import { fixture } from '../helpers/paths.js';
import { type Spawned, spawnNode } from '../helpers/process.js';
import { withTimeout } from '../helpers/wait.js';
import { get, type Harness, shape, startHarness, UUID } from './harness.js';
import { rawClient } from './raw-client.js';

const TAIL = 'protocol=http1.1 tls=false';
const HEAD_FIELDS = 'host=app.test request_id=ID fwd="127.0.0.1"';

/** A port on 127.0.0.1 with nothing listening (connect refused). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('router codes (Router 2.0, fault app)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  const errorLine = (code: string, desc: string, path: string, status = 503, bytes = 567) =>
    `at=error code=${code} desc="${desc}" method=GET path="${path}" ${HEAD_FIELDS} dyno=web.1 connect=Nms service=Nms status=${status} bytes=${bytes} ${TAIL}`;

  test('info: a complete response is relayed and logged at=info', async () => {
    const n = h.records.length;
    const res = await h.send(get('/ok?size=10'));
    assert.equal(res.ending, 'answered');
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'z'.repeat(10));
    const r = await h.record(n);
    assert.equal(
      shape(h.lines[n] as string),
      `at=info method=GET path="/ok?size=10" ${HEAD_FIELDS} dyno=web.1 connect=Nms service=Nms status=200 bytes=${res.bytesReceived} ${TAIL}`,
    );
    assert.match(r.requestId ?? '', UUID);
    assert.ok((r.connectMs ?? -1) >= 0 && (r.serviceMs ?? -1) >= 0);
  });

  test('info: a close-delimited body is a normal end', async () => {
    const n = h.records.length;
    const res = await h.send(get('/ok-close'));
    assert.equal(res.ending, 'answered');
    assert.equal(res.body.toString(), 'close-delimited body');
    await h.record(n);
    assert.equal(
      shape(h.lines[n] as string),
      `at=info method=GET path="/ok-close" ${HEAD_FIELDS} dyno=web.1 connect=Nms service=Nms status=200 bytes=${res.bytesReceived} ${TAIL}`,
    );
  });

  test('H13: the dyno closes without a byte (FIN)', async () => {
    const n = h.records.length;
    const res = await h.send(get('/destroy'));
    assert.equal(res.status, 503);
    assert.equal(res.body.length, ERROR_PAGE_BYTES);
    assert.equal(res.head?.headers.find(([k]) => k === 'Connection')?.[1], 'close');
    await h.record(n);
    assert.equal(
      shape(h.lines[n] as string),
      errorLine('H13', 'Connection closed without response', '/destroy'),
    );
  });

  test('H13: the dyno resets without a byte (RST)', async () => {
    const n = h.records.length;
    const res = await h.send(get('/reset'));
    assert.equal(res.status, 503);
    await h.record(n);
    assert.equal(
      shape(h.lines[n] as string),
      errorLine('H13', 'Connection closed without response', '/reset'),
    );
  });

  test('H12: no response byte within firstByte', async () => {
    const n = h.records.length;
    const res = await h.send(get('/stall-first'));
    assert.equal(res.status, 503);
    const r = await h.record(n);
    assert.equal(shape(h.lines[n] as string), errorLine('H12', 'Request timeout', '/stall-first'));
    assert.ok(r.serviceMs !== null && r.connectMs !== null);
  });

  test('H15: the response stalls after its first bytes (logged 503, as the Error Codes example)', async () => {
    const n = h.records.length;
    const res = await h.send(get('/stall-body'));
    assert.equal(res.ending, 'truncated');
    assert.equal(res.status, 200);
    await h.record(n);
    assert.equal(
      shape(h.lines[n] as string),
      errorLine('H15', 'Idle connection', '/stall-body', 503, res.bytesReceived),
    );
  });

  test('H17: a response that is not HTTP', async () => {
    const n = h.records.length;
    const res = await h.send(get('/malformed'));
    assert.equal(res.status, 503);
    await h.record(n);
    assert.equal(
      shape(h.lines[n] as string),
      errorLine('H17', 'Poorly formatted HTTP response', '/malformed'),
    );
  });

  test('H17: an invalid chunk in the read that carried the head: head relayed, then cut (vegur)', async () => {
    const n = h.records.length;
    const res = await h.send(get('/bad-chunk'));
    assert.equal(res.status, 200);
    assert.equal(res.ending, 'truncated');
    await h.record(n);
    assert.equal(
      shape(h.lines[n] as string),
      errorLine('H17', 'Poorly formatted HTTP response', '/bad-chunk', 200, res.bytesReceived),
    );
  });

  test('H18: the dyno closes mid-body (sock=backend, the relayed status)', async () => {
    const n = h.records.length;
    const res = await h.send(get('/half'));
    assert.equal(res.ending, 'truncated');
    assert.equal(res.status, 200);
    await h.record(n);
    assert.equal(
      shape(h.lines[n] as string),
      `sock=backend ${errorLine('H18', 'Server Request Interrupted', '/half', 200, res.bytesReceived)}`,
    );
  });

  test('H18: the dyno closes inside the head (503 page)', async () => {
    const n = h.records.length;
    const res = await h.send(get('/head-cut'));
    assert.equal(res.status, 503);
    await h.record(n);
    assert.equal(
      shape(h.lines[n] as string),
      `sock=backend ${errorLine('H18', 'Server Request Interrupted', '/head-cut')}`,
    );
  });

  const h25 = [
    ['/bad-cl', 'HTTP restriction: invalid content length'],
    ['/big-cookie', 'HTTP restriction: oversized cookie'],
    ['/big-header', 'HTTP restriction: oversized header'],
    ['/big-status', 'HTTP restriction: oversized status line'],
  ] as const;
  for (const [path, desc] of h25) {
    test(`H25: ${desc}`, async () => {
      const n = h.records.length;
      const res = await h.send(get(path));
      assert.equal(res.status, 502);
      await h.record(n);
      assert.equal(shape(h.lines[n] as string), errorLine('H25', desc, path, 502));
    });
  }

  // Router 2.0 reports every code "except H23 and H26" (HTTP Routing, router comparison): the
  // same requests get the same answer and no line. Legacy lines: conformance.test.ts.
  /** The next line is the one for a request sent after: nothing was logged in between. */
  const noLineSince = async (n: number) => {
    assert.equal((await h.send(get('/ok'))).status, 200);
    assert.equal((await h.record(n)).path, '/ok');
  };

  test('H26 cases in Router 2.0: unsupported Expect value → 417, never forwarded, no line', async () => {
    const n = h.records.length;
    const seen = h.app?.requests.length;
    const res = await h.send(get('/ok', 'Expect: 200-ok\r\n'));
    assert.equal(res.status, 417);
    assert.equal(h.app?.requests.length, seen);
    await noLineSince(n);
  });

  test('H26 cases in Router 2.0: an unparseable Connection header → 400, no line', async () => {
    const n = h.records.length;
    const res = await h.send(get('/ok', 'Connection: a b\r\n'));
    assert.equal(res.status, 400);
    await noLineSince(n);
  });

  test('H26 cases in Router 2.0: a bad chunk in a chunked request body → 400, no line', async () => {
    const n = h.records.length;
    const seen = h.app?.requests.length ?? 0;
    const c = await rawClient(h.router.port);
    c.write('POST /ok HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n');
    await withTimeout(h.app?.received(seen + 1) ?? Promise.resolve(), 5_000, 'app request');
    c.write('5\r\nhello\r\nzz\r\n');
    await c.waitFor(/Application error/);
    await c.closed();
    assert.match(c.received(), /^HTTP\/1\.1 400 Bad Request\r\n/);
    await noLineSince(n);
  });

  test('H27: the client closes before the response (sock=client, 499)', async () => {
    const n = h.records.length;
    const seen = h.app?.requests.length ?? 0;
    const c = await rawClient(h.router.port);
    c.write(get('/stall-first'));
    await withTimeout(h.app?.received(seen + 1) ?? Promise.resolve(), 5_000, 'app request');
    c.socket.destroy();
    await h.record(n);
    assert.equal(
      shape(h.lines[n] as string),
      `sock=client at=warning code=H27 desc="Client Request Interrupted" method=GET path="/stall-first" ${HEAD_FIELDS} dyno=web.1 connect=Nms service=Nms status=499 bytes= ${TAIL}`,
    );
  });

  test('H28: the client stops sending its body (499, connection closed)', async () => {
    const n = h.records.length;
    const seen = h.app?.requests.length ?? 0;
    const c = await rawClient(h.router.port);
    c.write('POST /ok HTTP/1.1\r\nHost: app.test\r\nContent-Length: 100\r\n\r\n0123456789');
    await withTimeout(h.app?.received(seen + 1) ?? Promise.resolve(), 5_000, 'app request');
    await c.closed();
    assert.equal(c.received(), '');
    await h.record(n);
    assert.equal(
      shape(h.lines[n] as string),
      `at=warning code=H28 desc="Client Connection Idle" method=POST path="/ok" ${HEAD_FIELDS} dyno=web.1 connect=Nms service=Nms status=499 bytes= ${TAIL}`,
    );
  });

  test('101: an upgrade is piped both ways and logged at=info status=101', async () => {
    const n = h.records.length;
    const c = await rawClient(h.router.port);
    c.write(
      'GET /upgrade HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n',
    );
    await c.waitFor(/\r\n\r\n/);
    assert.match(c.received(), /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(c.received(), /\r\nConnection: Upgrade\r\n/);
    assert.match(c.received(), /\r\nUpgrade: echo\r\n/);
    const headLength = c.received().length;
    c.write('ping');
    await c.waitFor(/ping$/);
    c.write('pong');
    await c.waitFor(/pingpong$/);
    c.socket.end();
    await c.closed();
    const r = await h.record(n);
    assert.equal(
      shape(h.lines[n] as string),
      `at=info method=GET path="/upgrade" ${HEAD_FIELDS} dyno=web.1 connect=Nms service=Nms status=101 bytes=${headLength + 8} ${TAIL}`,
    );
    assert.equal(r.status, 101);
  });

  test('no socket stays open once traffic ends', async () => {
    await h.drained();
  });
});

describe('router codes without a working dyno', () => {
  // The router answers these itself: no dyno connection, empty dyno/connect/service fields.
  const CASES = [
    ['H14', 'No web processes running', 'no dynos at all', null],
    ['H10', 'App crashed', 'every dyno crashed', 'crashed'],
    ['H20', 'App boot timeout', 'waited bootQueue for a starting dyno', 'starting'],
  ] as const;
  for (const [code, desc, what, state] of CASES) {
    test(`${code}: ${what}`, async () => {
      let dynos: DynoTable | undefined;
      if (state !== null) {
        dynos = new DynoTable();
        dynos.set({ name: 'web.1', host: '127.0.0.1', port: await closedPort(), state });
      }
      const h = await startHarness(dynos === undefined ? { noApp: true } : { dynos });
      try {
        const res = await h.send(get('/'));
        assert.equal(res.status, 503);
        await h.record(0);
        assert.equal(
          shape(h.lines[0] as string),
          `at=error code=${code} desc="${desc}" method=GET path="/" ${HEAD_FIELDS} dyno= connect= service= status=503 bytes=567 ${TAIL}`,
        );
      } finally {
        await h.close();
      }
    });
  }

  test('a queued request goes as soon as the starting dyno is up', async () => {
    const app = await startHarness();
    const dynos = new DynoTable();
    dynos.set({ name: 'web.1', host: '127.0.0.1', port: app.app?.port ?? 0, state: 'starting' });
    const h = await startHarness({ dynos, timers: { bootQueue: 5_000 } });
    try {
      const c = await rawClient(h.router.port);
      c.write(get('/ok'));
      dynos.setState('web.1', app.app?.port ?? 0, 'up');
      await c.waitFor(/\r\n\r\nzz$/);
      const r = await h.record(0);
      assert.equal(r.at, 'info');
      assert.equal(r.dyno, 'web.1');
      c.socket.destroy();
    } finally {
      await h.close();
      await app.close();
    }
  });

  test('H21: every dyno refuses; both are tried, the last is logged', async () => {
    const dynos = new DynoTable();
    dynos.set({ name: 'web.1', host: '127.0.0.1', port: await closedPort(), state: 'up' });
    dynos.set({ name: 'web.2', host: '127.0.0.1', port: await closedPort(), state: 'up' });
    const h = await startHarness({ dynos });
    try {
      const res = await h.send(get('/'));
      assert.equal(res.status, 503);
      const r = await h.record(0);
      assert.equal(
        shape(h.lines[0] as string),
        `at=error code=H21 desc="Backend connection refused" method=GET path="/" ${HEAD_FIELDS} dyno=web.2 connect=Nms service= status=503 bytes=567 ${TAIL}`,
      );
      assert.equal(h.records.length, 1);
      assert.ok(r.connectMs !== null);
    } finally {
      await h.close();
    }
  });

  test('a refused dyno is skipped: the request goes to the next one', async () => {
    const app = await startHarness();
    const dynos = new DynoTable();
    dynos.set({ name: 'web.1', host: '127.0.0.1', port: await closedPort(), state: 'up' });
    dynos.set({ name: 'web.2', host: '127.0.0.1', port: app.app?.port ?? 0, state: 'up' });
    const h = await startHarness({ dynos });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await h.send(get('/ok'));
        assert.equal(res.status, 200);
        const r = await h.record(i);
        assert.equal(r.at, 'info');
        assert.equal(r.dyno, 'web.2');
      }
    } finally {
      await h.close();
      await app.close();
    }
  });

  describe('H19: a real connect timeout on 127.0.0.1', () => {
    let blackhole: Spawned;
    const fillers: net.Socket[] = [];
    after(() => {
      for (const s of fillers) s.destroy();
      blackhole?.kill();
    });

    test('the connect times out after timers.connect', async () => {
      blackhole = spawnNode(fixture('router-blackhole'), ['20000']);
      const m = await blackhole.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      const port = Number(m[1]);
      // Fill the accept queue (backlog 1 holds two connections); the next SYN is dropped.
      for (let i = 0; i < 2; i++) {
        const s = net.connect({ host: '127.0.0.1', port });
        s.on('error', () => {});
        fillers.push(s);
        await withTimeout(
          new Promise<void>((resolve) => s.once('connect', () => resolve())),
          5_000,
          'filler connect',
        );
      }
      const dynos = new DynoTable();
      dynos.set({ name: 'web.1', host: '127.0.0.1', port, state: 'up' });
      const h = await startHarness({ dynos, timers: { connect: 100 } });
      try {
        const res = await h.send(get('/'));
        assert.equal(res.status, 503);
        const r = await h.record(0);
        assert.equal(
          shape(h.lines[0] as string),
          `at=error code=H19 desc="Backend connection timeout" method=GET path="/" ${HEAD_FIELDS} dyno=web.1 connect=Nms service= status=503 bytes=567 ${TAIL}`,
        );
        assert.ok(r.connectMs !== null && r.serviceMs === null, 'connect time, no service');
        await h.drained();
      } finally {
        await h.close();
      }
    });
  });

  test('H24: the router closes with a request in flight (status empty)', async () => {
    const h = await startHarness({ timers: { firstByte: 10_000 } });
    const c = await rawClient(h.router.port);
    c.write(get('/stall-first'));
    await withTimeout(h.app?.received(1) ?? Promise.resolve(), 5_000, 'app request');
    await h.close();
    await c.closed();
    await h.record(0);
    assert.equal(
      shape(h.lines[0] as string),
      `at=error code=H24 desc="Forced close" method=GET path="/stall-first" ${HEAD_FIELDS} dyno=web.1 connect=Nms service=Nms status= bytes= ${TAIL}`,
    );
    assert.deepEqual(h.router.openSockets(), { client: 0, dyno: 0 });
  });
});
