import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatLogLine,
  formatTimestamp,
  parseHerokuLine,
  parseTimestampMicros,
} from '../../src/core/heroku-log.js';
import {
  formatRouterMessage,
  parseRouterMessage,
  type RouterRecord,
} from '../../src/core/router-line.js';

const base: RouterRecord = {
  at: 'info',
  code: null,
  desc: null,
  cause: null,
  sock: null,
  method: 'GET',
  path: '/',
  host: 'demo.herokuapp.com',
  requestId: '0b7c6a52-9f3e-4d1b-8a7e-3c2f1e0d9b8a',
  fwd: '203.0.113.9',
  dyno: 'web.1',
  connectMs: 0,
  serviceMs: 3,
  status: 200,
  bytes: 245,
  protocol: 'https',
  tls: null,
};

describe('router message', () => {
  it('writes the spec example for a success, field for field', () => {
    assert.equal(
      formatRouterMessage(base),
      'at=info method=GET path="/" host=demo.herokuapp.com request_id=0b7c6a52-9f3e-4d1b-8a7e-3c2f1e0d9b8a fwd="203.0.113.9" dyno=web.1 connect=0ms service=3ms status=200 bytes=245 protocol=https',
    );
  });

  it('writes H18 with the sock=backend prefix and H27 with empty bytes', () => {
    const h18 = formatRouterMessage({
      ...base,
      at: 'error',
      code: 'H18',
      sock: 'backend',
      status: 503,
      bytes: 16384,
    });
    assert.match(
      h18,
      /^sock=backend at=error code=H18 desc="Server Request Interrupted" method=GET /,
    );
    const h27 = formatRouterMessage({
      ...base,
      at: 'warning',
      code: 'H27',
      sock: 'client',
      status: 499,
      bytes: null,
    });
    assert.match(
      h27,
      /^sock=client at=warning code=H27 desc="Client Request Interrupted" .* status=499 bytes= protocol=https$/,
    );
  });

  it('writes H26 with its cause and Router 2.0 protocol fields', () => {
    const line = formatRouterMessage({
      ...base,
      at: 'error',
      code: 'H26',
      cause: 'bad chunk',
      status: 400,
      dyno: null,
      connectMs: null,
      protocol: 'http1.1',
      tls: false,
    });
    assert.match(line, /^at=error code=H26 desc="Request Error" cause="bad chunk" method=GET /);
    assert.match(
      line,
      / dyno= connect= service=3ms status=400 bytes=245 protocol=http1\.1 tls=false$/,
    );
  });

  it('keeps a hostile path inside its quotes', () => {
    const line = formatRouterMessage({ ...base, path: '/a"b\r\nat=error code=H99 x="' });
    assert.ok(!/[\r\n]/.test(line));
    assert.equal(parseRouterMessage(line)?.path, '/a"b\r\nat=error code=H99 x="');
    assert.equal(parseRouterMessage(line)?.code, null);
  });

  it('reads back what it writes', () => {
    const record: RouterRecord = {
      ...base,
      at: 'error',
      code: 'H13',
      desc: 'Connection closed without response',
      status: 503,
      bytes: 0,
    };
    assert.deepEqual(parseRouterMessage(formatRouterMessage(record)), record);
  });

  it('reads old lines without protocol or request_id and with unquoted paths', () => {
    const r = parseRouterMessage(
      'at=error code=H12 desc="Request timeout" method=GET path=/slow?x=1 host=a.herokuapp.com fwd=1.2.3.4 dyno=web.2 connect=1ms service=30000ms status=503 bytes=0',
    );
    assert.equal(r?.path, '/slow?x=1');
    assert.equal(r?.requestId, null);
    assert.equal(r?.protocol, null);
    assert.equal(r?.serviceMs, 30000);
  });

  it('refuses messages that are not router lines', () => {
    assert.equal(parseRouterMessage('Error: boom'), null);
    assert.equal(parseRouterMessage('at=info'), null);
  });
});

describe('heroku logs line', () => {
  it('formats RFC 3339 timestamps with microseconds and +00:00', () => {
    const micros = Date.UTC(2026, 2, 2, 10, 15, 4) * 1000 + 123456;
    assert.equal(formatTimestamp(micros), '2026-03-02T10:15:04.123456+00:00');
    assert.equal(
      formatTimestamp(micros + 1_000_000 - 123456 + 7),
      '2026-03-02T10:15:05.000007+00:00',
    );
    assert.equal(parseTimestampMicros('2026-03-02T10:15:04.123456+00:00'), micros);
  });

  it('round-trips a line', () => {
    const micros = Date.UTC(2026, 2, 2, 10, 15, 5) * 1000 + 4321;
    const line = formatLogLine(micros, 'app', 'web.1', 'Error: boom');
    assert.equal(line, '2026-03-02T10:15:05.004321+00:00 app[web.1]: Error: boom');
    assert.deepEqual(parseHerokuLine(line), {
      timestamp: '2026-03-02T10:15:05.004321+00:00',
      micros,
      source: 'app',
      process: 'web.1',
      message: 'Error: boom',
    });
    assert.equal(parseHerokuLine('not a log line'), null);
  });
});
