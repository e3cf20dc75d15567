/**
 * Conformance with Heroku's documented behaviour: one test per sourced behaviour, run in both
 * router modes where the behaviour applies to both. Each test names its source:
 *   [routing]   Dev Center, HTTP Routing (devcenter.heroku.com/articles/http-routing)
 *   [codes]     Dev Center, Error Codes (devcenter.heroku.com/articles/error-codes)
 *   [ids]       Dev Center, HTTP Request IDs (devcenter.heroku.com/articles/http-request-id)
 *   [timeout]   Dev Center, Request Timeout (devcenter.heroku.com/articles/request-timeout)
 *   [help-race] help.heroku.com/Y6M4QI4V (H18/H13 since switching to Router 2.0)
 *   [oc-12160]  opencollective-api#12160: 500 of 500 keep-alive-race H18s were POSTs, 503 bytes=567
 *   [r2-logs]   public Router 2.0 logs (request ids without version bits)
 *   [nel]       public response captures of Heroku apps (Nel/Report-To/Reporting-Endpoints)
 *   [vegur:F]   heroku/vegur source file F; [cowboyku:F] heroku/cowboyku source file F
 * docs/router.md cites the same sources per behaviour and states the choices where they
 * disagree or are silent.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RouterFlavor } from '../../src/core/router-line.js';
import { staticDynos } from '../../src/router/index.js';
import { get, type Harness, startHarness, UUID, UUID_V4 } from './harness.js';
import { rawClient } from './raw-client.js';

function header(raw: string, name: string): string[] {
  const out: string[] = [];
  for (const line of raw.split('\r\n').slice(1)) {
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).toLowerCase() === name.toLowerCase())
      out.push(line.slice(colon + 1).trim());
  }
  return out;
}
const names = (raw: string) =>
  raw
    .split('\r\n\r\n')[0]
    ?.split('\r\n')
    .slice(1)
    .map((l) => l.slice(0, l.indexOf(':'))) ?? [];

for (const flavor of ['2', 'legacy'] as const satisfies readonly RouterFlavor[]) {
  const mode = flavor === '2' ? 'Router 2.0' : 'legacy';
  describe(`conformance: ${mode}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ flavor });
    });
    after(async () => {
      await h.close();
    });
    const lastRaw = () => h.app?.requests.at(-1)?.raw ?? '';
    /** Refused before the app stage: the status, Connection: close, not forwarded, no line. */
    const refused = async (bytes: string, status: number) => {
      const seen = h.app?.requests.length;
      const lines = h.records.length;
      const res = await h.send(bytes);
      assert.equal(res.status, status);
      assert.equal(h.app?.requests.length, seen, 'not forwarded');
      assert.equal(h.records.length, lines, 'no router line');
    };

    test('[ids] a valid client X-Request-Id (20-200 of A-Za-z0-9+/=-) is kept, sent and logged', async () => {
      const n = h.records.length;
      const id = 'abcdefghij0123456789+/=-';
      await h.send(get('/ok', `X-Request-Id: ${id}\r\n`));
      assert.deepEqual(header(lastRaw(), 'x-request-id'), [id]);
      assert.equal((await h.record(n)).requestId, id);
    });

    test(`[ids]${flavor === '2' ? '[r2-logs]' : ''} an invalid one is replaced: ${flavor === '2' ? '128 random bits in UUID layout' : 'a UUIDv4'}`, async () => {
      const n = h.records.length;
      await h.send(get('/ok', 'X-Request-Id: short\r\n'));
      const id = (await h.record(n)).requestId ?? '';
      assert.match(id, flavor === '2' ? UUID : UUID_V4);
      assert.deepEqual(header(lastRaw(), 'x-request-id'), [id]);
      if (flavor === '2') {
        // Over many ids, some lack the v4 nibble: the version bits are not forced.
        const ids: string[] = [];
        for (let i = 0; i < 40; i++) {
          const m = h.records.length;
          await h.send(get('/ok'));
          ids.push((await h.record(m)).requestId ?? '');
        }
        assert.ok(
          ids.some((x) => x[14] !== '4'),
          ids.join(' '),
        );
      }
    });

    test('[routing] Heroku headers: X-Forwarded-For/-Proto/-Port, X-Request-Start, Via, Connect-Time, Total-Route-Time', async () => {
      await h.send(get('/ok'));
      const raw = lastRaw();
      assert.deepEqual(header(raw, 'x-forwarded-for'), ['127.0.0.1']);
      assert.deepEqual(header(raw, 'x-forwarded-proto'), ['http']);
      assert.deepEqual(header(raw, 'x-forwarded-port'), [String(h.router.port)]);
      assert.match(header(raw, 'x-request-start')[0] ?? '', /^\d{13}$/);
      assert.deepEqual(header(raw, 'via'), [flavor === '2' ? '1.1 heroku-router' : '1.1 vegur']);
      assert.match(header(raw, 'connect-time')[0] ?? '', /^\d+$/);
      assert.match(header(raw, 'total-route-time')[0] ?? '', /^\d+$/);
    });

    test(`[routing]${flavor === 'legacy' ? '[vegur:vegur_utils.erl]' : ''} X-Forwarded-For: the client address appended ${flavor === 'legacy' ? 'to the first field, others kept' : 'to the merged fields'}`, async () => {
      await h.send(get('/ok', 'X-Forwarded-For: 203.0.113.1\r\nX-Forwarded-For: 203.0.113.2\r\n'));
      assert.deepEqual(
        header(lastRaw(), 'x-forwarded-for'),
        flavor === 'legacy'
          ? ['203.0.113.1, 127.0.0.1', '203.0.113.2']
          : ['203.0.113.1, 203.0.113.2, 127.0.0.1'],
      );
    });

    test(`[routing] dyno connections: ${flavor === '2' ? 'kept alive (a pool)' : 'a new one per request, Connection: close'}`, async () => {
      const before = h.app?.connections() ?? 0;
      await h.send(get('/ok'));
      await h.send(get('/ok'));
      const opened = (h.app?.connections() ?? 0) - before;
      if (flavor === '2') assert.ok(opened <= 1, `${opened} connections for 2 requests`);
      else {
        assert.equal(opened, 2);
        assert.deepEqual(header(lastRaw(), 'connection'), ['close']);
      }
    });

    test(`[nel] relayed responses carry Nel, Report-To and Reporting-Endpoints (group heroku-nel)`, async () => {
      const res = await h.send(get('/ok'));
      const value = (k: string) =>
        (res.head?.headers ?? []).filter(([n]) => n.toLowerCase() === k).map(([, v]) => v);
      assert.match(value('nel')[0] ?? '', /"report_to":"heroku-nel"/);
      assert.match(value('report-to')[0] ?? '', /"group":"heroku-nel"/);
      assert.match(value('reporting-endpoints')[0] ?? '', /^heroku-nel=/);
      assert.doesNotMatch(value('report-to')[0] ?? '', /heroku\.com/, 'never a real endpoint');
    });

    if (flavor === 'legacy') {
      test('[vegur:vegur_client.erl] header names are capitalized both ways', async () => {
        const res = await h.send(get('/ok', 'x-custom-HEADER: 1\r\n'));
        assert.ok(names(lastRaw()).includes('X-Custom-Header'), names(lastRaw()).join(','));
        assert.ok((res.head?.headers ?? []).some(([n]) => n === 'Content-Length'));
      });
      test('[vegur:vegur_proxy.erl] an HTTP/1.0 request goes to the dyno as HTTP/1.1', async () => {
        assert.equal((await h.send('GET /ok HTTP/1.0\r\nHost: a\r\n\r\n')).status, 200);
        assert.match(lastRaw(), /^GET \/ok HTTP\/1\.1\r\n/);
      });
      test('[vegur:vegur_proxy.erl] a chunked response to an HTTP/1.0 client is de-chunked, then closed', async () => {
        const c = await rawClient(h.router.port);
        c.write('GET /chunked-ok HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n');
        await c.closed();
        const [head, body] = c.received().split('\r\n\r\n');
        assert.equal(body, 'hello world');
        assert.doesNotMatch(head ?? '', /transfer-encoding/i);
      });
      test('[vegur:vegur_proxy.erl] a kept client connection is told Connection: keep-alive', async () => {
        const res = await h.send(get('/ok'));
        const conn = (res.head?.headers ?? []).filter(([n]) => n.toLowerCase() === 'connection');
        assert.deepEqual(
          conn.map(([, v]) => v),
          ['keep-alive'],
        );
      });
    }

    test('[vegur:vegur_validate_headers.erl] Content-Length: 10,10 → 400, no line', async () => {
      await refused(get('/ok', 'Content-Length: 10,10\r\n'), 400);
    });
    test('[vegur:vegur_validate_headers.erl] HTTP/1.0 without Host → 400, no line', async () => {
      await refused('GET /ok HTTP/1.0\r\n\r\n', 400);
    });
    test('[vegur:vegur_validate_headers.erl][routing changelog 1002] two Host headers → 400', async () => {
      await refused('GET /ok HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400);
    });
    test('[cowboyku:cowboyku_protocol.erl] a bare-LF head → 400, no line', async () => {
      await refused('GET /ok HTTP/1.1\nHost: a\n\n', 400);
    });
    test('[cowboyku:cowboyku_protocol.erl] 5 empty lines before a request are skipped, 6 → 400', async () => {
      assert.equal((await h.send(`${'\r\n'.repeat(5)}${get('/ok')}`)).status, 200);
      await refused(`${'\r\n'.repeat(6)}${get('/ok')}`, 400);
    });
    test('[vegur:vegur.erl] request line over 8192 bytes → 414; header over 8192 → 400', async () => {
      await refused(`GET /${'a'.repeat(8200)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414);
      await refused(get('/ok', `X-Big: ${'b'.repeat(8200)}\r\n`), 400);
    });
    test('[routing] Transfer-Encoding: chunked with Content-Length: forwarded chunked, the length dropped', async () => {
      const res = await h.send(
        'POST /ok HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
      );
      assert.equal(res.status, 200);
      assert.deepEqual(header(lastRaw(), 'content-length'), []);
      assert.deepEqual(header(lastRaw(), 'transfer-encoding'), ['chunked']);
    });
    test('[routing] Expect: 100-continue is answered by the router, not forwarded', async () => {
      const c = await rawClient(h.router.port);
      c.write('POST /ok HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n');
      await c.waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
      c.write('hi');
      await c.waitFor(/HTTP\/1\.1 200 OK/);
      assert.deepEqual(header(lastRaw(), 'expect'), []);
      c.socket.destroy();
    });
    test('[codes] H13: the app closes without a response → 503', async () => {
      const n = h.records.length;
      assert.equal((await h.send(get('/destroy'))).status, 503);
      const r = await h.record(n);
      assert.deepEqual([r.code, r.status], ['H13', 503]);
    });
    test('[codes] H15: the Error Codes example logs status=503 though the head was relayed', async () => {
      const n = h.records.length;
      const res = await h.send(get('/stall-body'));
      assert.equal(res.status, 200);
      const r = await h.record(n);
      assert.deepEqual([r.code, r.status], ['H15', 503]);
    });
    test('[vegur:vegur_proxy.erl] a bad chunk read with the head: the head relayed, then cut (H17)', async () => {
      const n = h.records.length;
      const res = await h.send(get('/bad-chunk'));
      assert.equal(res.status, 200);
      assert.equal(res.ending, 'truncated');
      const r = await h.record(n);
      assert.deepEqual([r.code, r.status], ['H17', 200]);
    });
    test(`[codes][routing] H26 (unsupported Expect → 417): ${flavor === '2' ? 'no line (Router 2.0 reports every code except H23 and H26)' : 'logged'}`, async () => {
      const n = h.records.length;
      assert.equal((await h.send(get('/ok', 'Expect: 200-ok\r\n'))).status, 417);
      assert.equal((await h.send(get('/ok'))).status, 200);
      const r = await h.record(n);
      if (flavor === '2') assert.equal(r.path, '/ok');
      else
        assert.deepEqual(
          [r.code, r.cause, r.status],
          ['H26', 'unsupported expect header value', 417],
        );
    });
  });
}

describe('conformance: Router 2.0 keep-alive race', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });
  test('[help-race][oc-12160] POST on a pooled connection the app reset: H18 sock=backend 503 bytes=567', async () => {
    assert.equal((await h.send(get('/race-arm'))).status, 200);
    const n = h.records.length;
    await h.send('POST /ok HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi');
    const r = await h.record(n);
    assert.deepEqual([r.code, r.sock, r.status, r.bytes], ['H18', 'backend', 503, 567]);
  });
  test('[oc-12160] GET on a pooled connection the app reset: retried on a fresh connection', async () => {
    assert.equal((await h.send(get('/race-arm'))).status, 200);
    const n = h.records.length;
    assert.equal((await h.send(get('/ok'))).status, 200);
    assert.equal((await h.record(n)).status, 200);
  });
});

describe('conformance: codes from limits', () => {
  test('[codes] H14: no web dyno → 503', async () => {
    const h = await startHarness({ dynos: staticDynos([]) });
    try {
      assert.equal((await h.send(get('/ok'))).status, 503);
      assert.equal((await h.record(0)).code, 'H14');
    } finally {
      await h.close();
    }
  });
  test('[codes] H22: a request on a connection past maxConnections → 503', async () => {
    const h = await startHarness({ limits: { maxConnections: 1 } });
    try {
      const held = await rawClient(h.router.port);
      await new Promise((resolve) => setImmediate(resolve));
      const res = await h.send(get('/ok'));
      assert.equal(res.status, 503);
      assert.equal((await h.record(0)).code, 'H22');
      held.socket.destroy();
    } finally {
      await h.close();
    }
  });
  test('[routing][codes] H11: more requests in flight than the backlog of the routable dynos → 503', async () => {
    const h = await startHarness({ limits: { backlogPerDyno: 1 }, timers: { firstByte: 5_000 } });
    try {
      const stalled = await rawClient(h.router.port);
      stalled.write(get('/stall-first'));
      await h.app?.received(1);
      const res = await h.send(get('/ok'));
      assert.equal(res.status, 503);
      assert.equal((await h.record(0)).code, 'H11');
      stalled.socket.destroy();
    } finally {
      await h.close();
    }
  });
});

describe('conformance: Router 2.0, an app that dies mid-request on a pooled connection', () => {
  test('[codes] a clean close after the app read a GET stays H13 (no retry: not the race)', async () => {
    const h = await startHarness();
    try {
      assert.equal((await h.send(get('/ok'))).status, 200);
      const n = h.records.length;
      assert.equal((await h.send(get('/destroy'))).status, 503);
      const r = await h.record(n);
      assert.deepEqual([r.code, r.status], ['H13', 503]);
      assert.equal(h.app?.connections(), 1, 'the request went on the pooled connection');
    } finally {
      await h.close();
    }
  });
});
