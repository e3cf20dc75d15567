/**
 * The character classes both head parsers use (src/http/token.ts), checked against the RFC's
 * definitions written out as regular expressions here: these are the slow, obvious forms the
 * character loops replace.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  digitsValue,
  hasBadTargetByte,
  hasBadValueByte,
  isTokenList,
  isTokenRange,
  owsSlice,
  sameLower,
} from '../../src/http/token.js';
import { seededRandom } from '../helpers/random.js';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Only SP/HTAB count as whitespace: values never hold other controls (hasBadValueByte).
const TOKEN_LIST =
  /^[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+[ \t]*(,[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]*[ \t]*)*$/;
const BAD_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/;
const BAD_TARGET = /[\u0000-\u0020\u007f]/;

/** Short strings over an alphabet that hits every class boundary. */
function samples(count: number): string[] {
  const alphabet = [
    'a',
    'Z',
    '0',
    '-',
    '!',
    '~',
    ' ',
    '\t',
    ',',
    ':',
    '/',
    '"',
    '\x7f',
    '\x00',
    '\x0b',
    '\r',
    '\xa0',
    '\xff',
    '@',
  ];
  const rand = seededRandom(13);
  const out = [''];
  for (let i = 0; i < count; i++) {
    let s = '';
    const n = Math.floor(rand() * 8);
    for (let k = 0; k < n; k++) s += alphabet[Math.floor(rand() * alphabet.length)];
    out.push(s);
  }
  return out;
}

test('token, token list, value, target and case checks agree with the RFC patterns', () => {
  for (const s of samples(20_000)) {
    assert.equal(
      isTokenRange(`(${s})`, 1, s.length + 1),
      TOKEN.test(s),
      `token ${JSON.stringify(s)}`,
    );
    assert.equal(isTokenList(s), TOKEN_LIST.test(s), `isTokenList ${JSON.stringify(s)}`);
    assert.equal(hasBadValueByte(s), BAD_VALUE.test(s), `value ${JSON.stringify(s)}`);
    assert.equal(hasBadTargetByte(s), BAD_TARGET.test(s), `target ${JSON.stringify(s)}`);
    assert.equal(owsSlice(s, 0, s.length), s.replace(/^[ \t]+|[ \t]+$/g, ''), 'owsSlice');
    const lower = s.toLowerCase();
    // Only ASCII letters fold: 'É' is not 'é' to a header-name compare.
    const asciiLower = s.replace(/[A-Z]/g, (c) => c.toLowerCase());
    if (lower === asciiLower)
      assert.equal(sameLower(s, lower), true, `sameLower ${JSON.stringify(s)}`);
    assert.equal(sameLower(s, 'keep-alive'), asciiLower === 'keep-alive');
  }
});

test('a long token list that fails at its end is judged at once', { timeout: 10_000 }, () => {
  // The regular expression this replaced backtracked exponentially here (seconds at 20).
  assert.equal(isTokenList(`a${',  '.repeat(10_000)}@`), false);
  assert.equal(isTokenList(`a${',  '.repeat(10_000)}`), true);
});

test('Content-Length digits: 1 to 15 ASCII digits, nothing else', () => {
  assert.equal(digitsValue('0'), 0);
  assert.equal(digitsValue('0012'), 12);
  assert.equal(digitsValue('999999999999999'), 999_999_999_999_999);
  for (const bad of ['', '1000000000000000', '+1', '-1', '1e3', ' 1', '1 ', '0x1', '1.0', '١'])
    assert.equal(digitsValue(bad), -1, JSON.stringify(bad));
});

test('sameLower folds ASCII letters only', () => {
  for (const yes of ['keep-alive', 'Keep-Alive', 'KEEP-ALIVE', 'kEeP-aLiVe'])
    assert.equal(sameLower(yes, 'keep-alive'), true, yes);
  // '@' and '[' sit just outside A–Z (their +32 would be '`' and '{'); é is not ASCII.
  for (const no of ['keep-alivé', 'keep_alive', 'keep-aliv', 'keep-alivee', '@', '['])
    assert.equal(sameLower(no, no === '@' ? '`' : no === '[' ? '{' : 'keep-alive'), false, no);
});
