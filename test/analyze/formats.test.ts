import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { Histogram } from '../../src/analyze/histogram.js';
import { normaliseRoute } from '../../src/analyze/route.js';
import { MAX_BUCKETS, Timeline } from '../../src/analyze/timeline.js';
import { createTimestampReader } from '../../src/analyze/timestamp.js';
import { ROUTER_CODE_NAMES, ROUTER_CODES } from '../../src/core/codes.js';
import { formatTimestamp, parseTimestampMicros } from '../../src/core/heroku-log.js';
import { createLogSink } from '../../src/core/log-sink.js';
import { formatFields } from '../../src/core/logfmt.js';
import {
  formatRouterMessage,
  parseRouterMessage,
  type RouterRecord,
} from '../../src/core/router-line.js';
import { analyzeText, routerRecord as record, rng, verdicts } from './analyze-helpers.js';

/** What `h13 run` writes: the router's and the dyno manager's lines through a LogSink. */
function runOutput(format: 'heroku' | 'json'): string {
  let out = '';
  const sink = createLogSink(
    format,
    new Writable({
      write: (c, _e, cb) => {
        out += String(c);
        cb();
      },
    }),
  );
  const t0 = Date.parse('2026-03-09T10:00:00Z') * 1000;
  const router = (dt: number, r: RouterRecord) =>
    sink.write({
      micros: t0 + dt,
      source: 'heroku',
      process: 'router',
      message: formatRouterMessage(r),
    });
  const app = (dt: number, proc: string, message: string) =>
    sink.write({ micros: t0 + dt, source: 'app', process: proc, message });
  const dyno = (dt: number, proc: string, message: string) =>
    sink.write({ micros: t0 + dt, source: 'heroku', process: proc, message });
  router(0, record({ at: 'info', code: null, status: 200, bytes: 12 }));
  // The guard's line on the app's stderr, then the router line for the same id.
  app(
    1000,
    'web.1',
    formatFields({
      at: 'error',
      code: 'H13',
      desc: 'Connection closed without response',
      request_id: 'aaaaaaaa-1111-4222-8333-444444444444',
      method: 'GET',
      path: '/socket-timeout',
      cause: 'socket timeout',
      elapsed: '1000ms',
      step: 'handler',
      stack: 'Error: timeout\n    at Socket.onTimeout (/app/server.js:5:3)',
    }),
  );
  router(
    2000,
    record({
      requestId: 'aaaaaaaa-1111-4222-8333-444444444444',
      path: '/socket-timeout',
      serviceMs: 1001,
    }),
  );
  // A crash on web.2: the router line is written before the app's stack (out of order).
  router(
    5_000_000,
    record({ dyno: 'web.2', path: '/throw', requestId: 'bbbbbbbb-1111-4222-8333-444444444444' }),
  );
  app(4_999_000, 'web.2', 'Error: thrown on purpose');
  app(4_999_100, 'web.2', '    at /app/handlers.js:40:11');
  dyno(5_010_000, 'web.2', 'Process exited with status 1');
  dyno(5_020_000, 'web.2', 'State changed from up to crashed');
  // A partial response.
  router(
    9_000_000,
    record({
      code: 'H18',
      sock: 'backend',
      dyno: 'web.1',
      path: '/partial',
      bytes: 100,
      status: 200,
      requestId: 'cccccccc-1111-4222-8333-444444444444',
    }),
  );
  return out;
}

describe('h13 run output, both log formats', () => {
  for (const format of ['heroku', 'json'] as const) {
    it(`--log-format ${format}`, () => {
      const { result, diagnoses } = analyzeText(runOutput(format));
      assert.equal(result.stats.unparsed, 0, result.stats.unparsedSamples.join('\n'));
      assert.ok((result.stats.formats[format] ?? 0) > 0);
      assert.deepEqual(verdicts(diagnoses), ['H13 app-crash', 'H13 socket-timeout', 'H18 unknown']);
      const guarded = diagnoses.find((d) => d.path === '/socket-timeout');
      assert.equal(guarded?.confidence, 'high');
      assert.equal(guarded?.evidence[0]?.kind, 'guard');
      assert.deepEqual(guarded?.frames, ['Socket.onTimeout (/app/server.js:5)']);
    });
  }

  it("the guard's lines alone (app stderr, no router) still give a diagnosis", () => {
    const line = formatFields({
      at: 'error',
      code: 'H13',
      request_id: 'dddddddd-1111-4222-8333-444444444444',
      method: 'POST',
      path: '/orders/77',
      elapsed: '12ms',
      cause: 'uncaught exception',
      step: 'db.query',
    });
    const { result, diagnoses } = analyzeText(`${line}\n`);
    assert.equal(result.stats.unparsed, 0);
    assert.equal(diagnoses.length, 1);
    assert.equal(diagnoses[0]?.cause, 'app-crash');
    assert.equal(diagnoses[0]?.guardOnly, true);
    assert.equal(diagnoses[0]?.route, '/orders/:id');
  });
});

describe('router line reader', () => {
  it('reads back every line formatRouterMessage writes', () => {
    const rand = rng(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const nasty = ['/', '/a b', '/q?x="1"', '/\r\nat=info', '/é\u2028', '/\\"', '', '/x=y z=w'];
    for (let i = 0; i < 2000; i++) {
      const code = pick([null, ...ROUTER_CODE_NAMES]);
      const r = record({
        at: code === null ? 'info' : ROUTER_CODES[code].level,
        code,
        desc: code === null ? null : pick(ROUTER_CODES[code].variants),
        cause: rand() < 0.1 ? 'bad "header"' : null,
        sock: pick([null, 'client', 'backend'] as const),
        method: pick(['GET', 'POST', 'PROPFIND', 'weird']),
        path: pick(nasty) + String(Math.floor(rand() * 1000)),
        requestId: rand() < 0.2 ? null : `${Math.floor(rand() * 1e9)}-abcdefghijklmnop`,
        dyno: rand() < 0.2 ? null : `web.${Math.floor(rand() * 9)}`,
        connectMs: rand() < 0.2 ? null : Math.floor(rand() * 10),
        serviceMs: rand() < 0.2 ? null : Math.floor(rand() * 40000),
        status: rand() < 0.1 ? null : pick([200, 499, 503]),
        bytes: rand() < 0.2 ? null : Math.floor(rand() * 1e6),
        protocol: pick([null, 'https', 'http1.1']),
        tls: pick([null, true, false]),
      });
      const line = formatRouterMessage(r);
      assert.deepEqual(parseRouterMessage(line), r, line);
    }
  });

  it('reads the pre-2012 format', () => {
    const r = parseRouterMessage(
      'Error H12 (Request timeout) -> GET demo.herokuapp.com/reports/1 dyno=web.1 queue=0 wait=0ms service=30000ms status=503 bytes=0',
    );
    assert.equal(r?.code, 'H12');
    assert.equal(r?.path, '/reports/1');
    assert.equal(r?.host, 'demo.herokuapp.com');
    assert.equal(r?.serviceMs, 30000);
    assert.equal(r?.dyno, 'web.1');
    assert.equal(parseRouterMessage('hello world'), null);
  });
});

describe('building blocks', () => {
  it('routes: ids, UUIDs and hex hashes become :id, queries are dropped', () => {
    assert.equal(normaliseRoute('/orders/42?expand=1'), '/orders/:id');
    assert.equal(normaliseRoute('/u/9b2e1c4d-1111-4a22-9333-444455556666/x'), '/u/:id/x');
    assert.equal(normaliseRoute('/assets/app-3f9a8c2e7b1d.js'), '/assets/app-3f9a8c2e7b1d.js');
    assert.equal(normaliseRoute('/commits/3f9a8c2e7b1d'), '/commits/:id');
    assert.equal(normaliseRoute('/facade'), '/facade');
    assert.equal(normaliseRoute('?invalid=request'), '?invalid=request');
  });

  it('histogram percentiles stay within 1/16 of the truth and never exceed the max', () => {
    const h = new Histogram();
    for (let v = 1; v <= 10_000; v++) h.record(v);
    for (const p of [50, 95, 99]) {
      const truth = (p / 100) * 10_000;
      const got = h.percentile(p) as number;
      assert.ok(Math.abs(got - truth) / truth <= 1 / 16, `p${p}: ${got} vs ${truth}`);
    }
    assert.equal(h.percentile(100), 10_000);
    assert.equal(new Histogram().percentile(50), null);
  });

  it('the timeline keeps at most MAX_BUCKETS buckets whatever the span', () => {
    const t = new Timeline();
    const t0 = Date.parse('2026-01-01T00:00:00Z') * 1000;
    for (let i = 0; i < 100_000; i++) t.addRequest(t0 + i * 7_000_000);
    t.addError(t0 - 3_600_000_000, 'H13'); // earlier than anything: extends backwards
    assert.ok(t.length <= MAX_BUCKETS);
    assert.ok(t.requests.length <= MAX_BUCKETS);
    assert.equal(
      t.requests.reduce((a, b) => a + b, 0),
      100_000,
    );
  });

  it('timestamps: fractions, offsets and the cached second prefix agree with the core parser', () => {
    const ts = createTimestampReader();
    for (const s of [
      '2026-03-02T10:15:04.123456+00:00',
      '2026-03-02T10:15:04.5+00:00',
      '2026-03-02T10:15:05Z',
      '2026-03-02T12:15:05.000001+02:00',
      '2026-03-02T10:15:05.1234567-0130',
    ]) {
      assert.equal(ts.read(s, 0, s.length), parseTimestampMicros(s), s);
    }
    assert.ok(Number.isNaN(ts.read('2026-13-02T10:15:04+00:00', 0, 25)));
    const now = Date.parse('2026-03-02T10:15:04Z') * 1000 + 17;
    assert.equal(ts.read(formatTimestamp(now), 0, 32), now);
  });
});
