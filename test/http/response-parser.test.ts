import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findHeadEnd, ResponseParser } from '../../src/http/response-parser.js';

const b = (s: string) => Buffer.from(s, 'latin1');

test('a Content-Length response ends where its body ends, bytes after it are not its own', () => {
  const p = new ResponseParser();
  const r = p.push(b('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA'));
  assert.equal(r.head?.status, 200);
  assert.equal(r.bodyStart, 38);
  assert.equal(r.end, 40);
  assert.equal(p.keepAlive, true);
});

test('a head split over many pushes; bodyStart is reported in the last chunk', () => {
  const p = new ResponseParser();
  const text = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc';
  let result = null;
  for (let i = 0; i < text.length; i++) {
    const r = p.push(b(text[i] as string));
    if (r.head !== null) result = { r, i };
  }
  assert.ok(result !== null);
  assert.equal(result.r.bodyStart, 1);
  assert.equal(p.phase, 'done');
});

test('chunked responses: the end is after the last chunk and trailers', () => {
  const p = new ResponseParser();
  const text =
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n';
  const r = p.push(b(text));
  assert.equal(r.end, text.length);
  assert.equal(p.framing, 'chunked');
});

test('close-delimited bodies end with the connection; finish() says complete', () => {
  const p = new ResponseParser();
  p.push(b('HTTP/1.1 200 OK\r\n\r\nsome'));
  assert.equal(p.framing, 'close');
  assert.equal(p.keepAlive, false);
  assert.equal(p.finish(), true);
  const q = new ResponseParser();
  q.push(b('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nsome'));
  assert.equal(q.finish(), false); // H18 territory
});

test('HEAD, 204 and 304 have no body; 1xx heads are interim; 101 is an upgrade', () => {
  const head = new ResponseParser('HEAD');
  assert.equal(head.push(b('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n')).end, 39);
  assert.equal(new ResponseParser().push(b('HTTP/1.1 204 No Content\r\n\r\n')).end, 27);
  const p = new ResponseParser();
  const r = p.push(
    b('HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'),
  );
  assert.deepEqual(
    r.interim.map((h) => h.status),
    [103],
  );
  assert.equal(r.head?.status, 200);
  const u = new ResponseParser();
  u.push(b('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n'));
  assert.equal(u.framing, 'upgrade');
});

test('H17: not HTTP, a header without a colon, a bad chunk', () => {
  assert.equal(new ResponseParser().push(b('HTTX/1.1 200 OK\r\n\r\n')).fault?.code, 'H17');
  assert.equal(new ResponseParser().push(b('HTTP/1.1 20 OK\r\n\r\n')).fault?.code, 'H17');
  assert.equal(
    new ResponseParser().push(b('HTTP/1.1 200 OK\r\nNoColon\r\n\r\n')).fault?.code,
    'H17',
  );
  assert.equal(new ResponseParser().push(b('<html>')).fault?.code, 'H17'); // as soon as it shows
  const r = new ResponseParser().push(
    b('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'),
  );
  assert.equal(r.fault?.code, 'H17');
  assert.equal(r.head?.status, 200); // the head was parsed, but the router must not relay it
});

test('H17: a control character in a header value, a bare CR before the line end included', () => {
  for (const value of ['a\rb', 'a\r', 'chunked\x0b', '5\x00', 'x\x7f']) {
    const r = new ResponseParser().push(b(`HTTP/1.1 200 OK\r\nX-A: ${value}\r\n\r\n`));
    assert.equal(r.fault?.code, 'H17', JSON.stringify(value));
  }
  // HTAB and obs-text are allowed; a reader that is not the router takes what came back.
  assert.equal(
    new ResponseParser().push(b('HTTP/1.1 200 OK\r\nX-A: a\tb\xe9\r\n\r\n')).fault,
    null,
  );
  const lenient = new ResponseParser('GET', { restrict: false });
  assert.equal(
    lenient.push(b('HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n')).fault,
    null,
  );
});

test('Transfer-Encoding is noted whatever its codings: its Content-Length does not frame', () => {
  for (const te of ['chunked', 'gzip', 'gzip, chunked']) {
    const p = new ResponseParser();
    p.push(b(`HTTP/1.1 200 OK\r\nTransfer-Encoding: ${te}\r\nContent-Length: 5\r\n\r\n`));
    assert.equal(p.transferEncoding, true, te);
  }
  const plain = new ResponseParser();
  plain.push(b('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'));
  assert.equal(plain.transferEncoding, false);
});

test('H25: content length, cookie, header line and status line limits', () => {
  const desc = (text: string) => new ResponseParser().push(b(text)).fault?.desc;
  assert.equal(
    desc('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'),
    'HTTP restriction: invalid content length',
  );
  assert.equal(
    desc('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'),
    'HTTP restriction: invalid content length',
  );
  assert.equal(
    desc(`HTTP/1.1 200 OK\r\nSet-Cookie: ${'c'.repeat(8200)}\r\n\r\n`),
    'HTTP restriction: oversized cookie',
  );
  assert.equal(
    desc(`HTTP/1.1 200 OK\r\nSet-Cookie: ${'c'.repeat(8000)}\r\nContent-Length: 0\r\n\r\n`),
    undefined,
  );
  assert.equal(
    desc(`HTTP/1.1 200 OK\r\nX: ${'h'.repeat(512 * 1024 + 1)}\r\n\r\n`),
    'HTTP restriction: oversized header',
  );
  assert.equal(desc(`HTTP/1.1 200 ${'s'.repeat(9000)}`), 'HTTP restriction: oversized status line');
});

test('findHeadEnd accepts CRLF and bare LF line ends', () => {
  assert.equal(findHeadEnd(b('A\r\n\r\nrest'), 0), 5);
  assert.equal(findHeadEnd(b('A\n\nrest'), 0), 3);
  assert.equal(findHeadEnd(b('A\r\nB\r\n'), 0), -1);
});

test('a large head pushed a few bytes at a time is read in linear time', {
  timeout: 30_000,
}, () => {
  // Before: every push copied and re-scanned the whole head so far; a 900 KB head fed one
  // byte per push took about 400 GB of copying (hours). The test's timeout bounds it.
  const line = `X-P: ${'p'.repeat(94)}\r\n`;
  const text = `HTTP/1.1 200 OK\r\n${line.repeat(9000)}Content-Length: 2\r\n\r\nok`;
  const bytes = b(text);
  const p = new ResponseParser();
  let head = null;
  for (let i = 0; i < bytes.length; i++) {
    const r = p.push(bytes.subarray(i, i + 1));
    if (r.head !== null) head = r;
  }
  assert.equal(head?.head?.headers.length, 9001);
  assert.equal(p.phase, 'done');
  // A line past 512 KiB is still refused while it arrives, byte by byte.
  const q = new ResponseParser();
  const long = b(`HTTP/1.1 200 OK\r\nX: ${'h'.repeat(512 * 1024 + 1)}`);
  let fault = null;
  for (let i = 0; i < long.length && fault === null; i += 7)
    fault = q.push(long.subarray(i, i + 7)).fault;
  assert.equal(fault?.code, 'H25');
});

test('a status under 100 or a control character in the reason is malformed (H17)', () => {
  for (const line of [
    'HTTP/1.1 000 Zero',
    'HTTP/1.1 099 X',
    'HTTP/1.1 200 O\u001b[31mK',
    'HTTP/1.1 200 A\u0000B',
  ]) {
    const r = new ResponseParser().push(b(`${line}\r\nContent-Length: 0\r\n\r\n`));
    assert.equal(r.fault?.code, 'H17', line);
  }
  // A client reading whatever came back (restrict: false) still takes an odd reason.
  const loose = new ResponseParser('GET', { restrict: false });
  assert.equal(
    loose.push(b('HTTP/1.1 200 O\u001bK\r\nContent-Length: 0\r\n\r\n')).head?.status,
    200,
  );
  assert.equal(
    new ResponseParser().push(b('HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n')).head?.status,
    999,
  );
});
