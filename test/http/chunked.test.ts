import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChunkedValidator } from '../../src/http/chunked.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const run = (text: string) => new ChunkedValidator().push(b(text));

test('a complete body: end offset, data bytes, extensions and trailers', () => {
  const v = new ChunkedValidator();
  const text = '5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: a\r\n\r\nNEXT';
  const r = v.push(b(text));
  assert.deepEqual(r, { state: 'done', end: text.length - 4 });
  assert.equal(v.dataBytes, 15);
  assert.equal(v.done, true);
});

test('byte by byte gives the same answer', () => {
  const text = '3\r\nabc\r\n0\r\n\r\n';
  const v = new ChunkedValidator();
  for (let i = 0; i < text.length - 1; i++)
    assert.equal(v.push(b(text[i] as string)).state, 'more');
  assert.deepEqual(v.push(b(text.slice(-1))), { state: 'done', end: 1 });
});

test('invalid bodies: bad size, missing CRLF, overflow, smuggling shapes', () => {
  for (const bad of [
    'zz\r\n',
    '-1\r\n',
    '3\r\nabcX\r\n',
    '3\nabc\r\n',
    `${'f'.repeat(16)}\r\n`,
    '3 \r\nabc\r\n', // whitespace then CRLF
    '0\r\n\n',
    '3;a\nb\r\n',
  ]) {
    assert.equal(run(bad).state, 'error', JSON.stringify(bad));
  }
});

test('incomplete bodies need more', () => {
  assert.equal(run('5\r\nhel').state, 'more');
  assert.equal(run('0\r\n').state, 'more');
  assert.equal(run('0\r\nX: 1\r\n').state, 'more');
});
