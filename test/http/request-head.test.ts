import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRequestHead, type RequestHeadResult } from '../../src/http/request-head.js';

const parse = (text: string): RequestHeadResult => parseRequestHead(Buffer.from(text, 'latin1'));
const head = (text: string) => {
  const r = parse(text);
  assert.equal(r.kind, 'head', JSON.stringify(r));
  return (r as Extract<RequestHeadResult, { kind: 'head' }>).head;
};
const rejected = (text: string, status: number) => {
  const r = parse(text);
  assert.equal(r.kind, 'reject', `${JSON.stringify(text.slice(0, 60))} should be refused`);
  assert.equal((r as { status: number }).status, status);
};

test('a simple head: method, target, version, host, length, keep-alive', () => {
  const text = 'GET /a?b=c HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\nBODY';
  const h = head(text);
  assert.equal(h.method, 'GET');
  assert.equal(h.target, '/a?b=c');
  assert.equal(h.version, '1.1');
  assert.equal(h.host, 'x');
  assert.equal(h.length, text.length - 4);
  assert.equal(h.keepAlive, true);
  assert.deepEqual(h.framing, { kind: 'none' });
});

test('incomplete until the blank line; leading empty lines are skipped', () => {
  assert.equal(parse('GET / HTTP/1.1\r\nHost: x\r\n').kind, 'incomplete');
  assert.equal(head('\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n').method, 'GET');
});

test('leading empty lines: at most 5, each a CRLF (cowboyku max_empty_lines)', () => {
  assert.equal(head(`${'\r\n'.repeat(5)}GET / HTTP/1.1\r\nHost: x\r\n\r\n`).method, 'GET');
  rejected(`${'\r\n'.repeat(6)}GET / HTTP/1.1\r\nHost: x\r\n\r\n`, 400);
  rejected('\nGET / HTTP/1.1\r\nHost: x\r\n\r\n', 400);
  assert.equal(parse('\r\n\r\n\r').kind, 'incomplete');
});

test('bare LF line endings are refused (cowboyku requires CRLF)', () => {
  rejected('GET / HTTP/1.1\nHost: x\r\n\r\n', 400);
  rejected('GET / HTTP/1.1\r\nHost: x\n\r\n', 400);
  rejected('GET / HTTP/1.1\r\nHost: x\r\n\n', 400);
});

test('HTTP/1.0: keep-alive only when asked, Host required (vegur_validate_headers)', () => {
  assert.equal(head('GET / HTTP/1.0\r\nHost: x\r\n\r\n').keepAlive, false);
  assert.equal(head('GET / HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n').keepAlive, true);
  rejected('GET / HTTP/1.0\r\n\r\n', 400);
  rejected('GET / HTTP/1.1\r\nHost:\r\n\r\n', 400);
  assert.equal(head('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n').keepAlive, false);
});

test('framing: Content-Length, identical repeats, chunked', () => {
  assert.deepEqual(head('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n').framing, {
    kind: 'length',
    length: 5,
  });
  assert.deepEqual(
    head('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n').framing,
    { kind: 'length', length: 5 },
  );
  assert.deepEqual(
    head('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n').framing,
    { kind: 'chunked', codings: 'gzip, chunked' },
  );
  assert.deepEqual(
    head('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: , chunked\r\n\r\n').framing,
    { kind: 'chunked' },
  );
});

test('smuggling shapes are refused with 400', () => {
  const base = 'POST / HTTP/1.1\r\nHost: x\r\n';
  const both = head(`${base}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n`);
  assert.deepEqual(both.framing, { kind: 'chunked' }, 'chunked wins over Content-Length');
  assert.equal(both.keepAlive, false, 'and the connection closes after (RFC 9112 §6.1)');
  rejected(`${base}Content-Length: 10,10\r\n\r\n`, 400);
  rejected(`${base}Content-Length: 5\r\nContent-Length: 6\r\n\r\n`, 400);
  rejected(`${base}Content-Length: 5, 6\r\n\r\n`, 400);
  rejected(`${base}Content-Length: -1\r\n\r\n`, 400);
  rejected(`${base}Content-Length: 0x10\r\n\r\n`, 400);
  rejected(`${base}Transfer-Encoding: chunked, gzip\r\n\r\n`, 400);
  // A coding that is not a plain token could read as `chunked` to the app: never forwarded.
  rejected(`${base}Transfer-Encoding: chunked;x=1, chunked\r\n\r\n`, 400);
  rejected(`${base}Transfer-Encoding: gzip "x", chunked\r\n\r\n`, 400);
  rejected(`${base}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`, 400);
  rejected('POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', 400);
  rejected(`${base}Content-Length : 5\r\n\r\n`, 400);
  rejected(`${base}X-A: 1\r\n folded\r\n\r\n`, 400);
  rejected(`${base}X-A: a\u0000b\r\n\r\n`, 400);
  rejected('GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n', 400);
  rejected('GET /a b HTTP/1.1\r\nHost: x\r\n\r\n', 400);
  rejected('GET / HTTP/1.1\rX: y\r\nHost: x\r\n\r\n', 400);
});

test('limits: request line 8192, header line 8192, name 1000, 1000 headers', () => {
  const line = (n: number) => `GET /${'a'.repeat(n - 'GET / HTTP/1.1'.length)} HTTP/1.1`;
  assert.equal(head(`${line(8192)}\r\nHost: x\r\n\r\n`).method, 'GET');
  rejected(`${line(8193)}\r\nHost: x\r\n\r\n`, 414);
  rejected(`GET /${'a'.repeat(9000)}`, 414); // before the line even ends
  const hdr = (n: number) => `X-L: ${'v'.repeat(n - 5)}`;
  assert.equal(head(`GET / HTTP/1.1\r\nHost: x\r\n${hdr(8192)}\r\n\r\n`).method, 'GET');
  rejected(`GET / HTTP/1.1\r\nHost: x\r\n${hdr(8193)}\r\n\r\n`, 400);
  rejected(`GET / HTTP/1.1\r\nHost: x\r\n${'N'.repeat(1001)}: v\r\n\r\n`, 400);
  assert.equal(
    head(`GET / HTTP/1.1\r\nHost: x\r\n${'X: 1\r\n'.repeat(999)}\r\n`).headers.length,
    1000,
  );
  rejected(`GET / HTTP/1.1\r\nHost: x\r\n${'X: 1\r\n'.repeat(1000)}\r\n`, 400);
  rejected(`${'M'.repeat(128)} / HTTP/1.1\r\nHost: x\r\n\r\n`, 400);
});

test('version and method: 505 for HTTP/2.0 and 0.9, 405 for CONNECT, 400 for junk', () => {
  rejected('GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505);
  rejected('GET / HTTP/0.9\r\nHost: x\r\n\r\n', 505);
  rejected('CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n', 405);
  rejected('GET / HTTX/1.1\r\nHost: x\r\n\r\n', 400);
  rejected('GET / HTTP/1.1\r\n\r\n', 400); // missing Host
});

test('app-stage errors are reported as H26 causes, not refused', () => {
  assert.equal(
    head('GET / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n').h26,
    'unsupported expect header value',
  );
  assert.equal(head('GET / HTTP/1.1\r\nHost: x\r\nConnection: a b\r\n\r\n').h26, 'bad header');
  assert.equal(head('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: a b c\r\n\r\n').h26, 'bad header');
  const h = head('POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n');
  assert.equal(h.expectContinue, true);
  assert.equal(h.h26, null);
});

test('upgrade needs both Connection: upgrade and Upgrade', () => {
  assert.equal(
    head('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n').upgrade,
    'websocket',
  );
  assert.equal(head('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n').upgrade, null);
});

test('only SP and HTAB are trimmed from values: VT, FF and NBSP around a value are refused', () => {
  for (const raw of [
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\x0b\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nX: \x0cvalue\r\n\r\n',
  ]) {
    const r = parseRequestHead(Buffer.from(raw, 'latin1'));
    assert.equal(r.kind, 'reject', JSON.stringify(raw));
  }
  const nbsp = parseRequestHead(
    Buffer.from('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\xa0\r\n\r\n', 'latin1'),
  );
  assert.equal(nbsp.kind === 'reject' && nbsp.status, 400);
});

test('a Connection or Expect list of empty elements that fails at its end: H26 at once', {
  timeout: 10_000,
}, () => {
  // Through the old token-list regular expression this head took seconds, and each `,  `
  // more tripled it: one small request could hold the router's event loop.
  const tail = `${',  '.repeat(2_500)}@`;
  assert.equal(head(`GET / HTTP/1.1\r\nHost: x\r\nConnection: a${tail}\r\n\r\n`).h26, 'bad header');
  assert.notEqual(head(`GET / HTTP/1.1\r\nHost: x\r\nExpect: a${tail}\r\n\r\n`).h26, null);
});
