import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compileLine,
  formatFields,
  formatValue,
  type LogfmtValue,
  parseLogfmt,
  quoteValue,
  safeKey,
} from '../../src/core/logfmt.js';
import { seededRandom } from '../helpers/random.js';

describe('logfmt writer', () => {
  it('writes safe values bare and quotes space, quote and equals', () => {
    assert.equal(formatValue('web.1'), 'web.1');
    assert.equal(formatValue('a b'), '"a b"');
    assert.equal(formatValue('a"b'), '"a\\"b"');
    assert.equal(formatValue('a=b'), '"a=b"');
    assert.equal(formatValue(12), '12');
    assert.equal(formatValue(true), 'true');
  });

  it('writes empty-but-present values as key=', () => {
    const line = compileLine([{ key: 'status' }, { key: 'bytes' }, { key: 'protocol' }]);
    assert.equal(line([503, null, 'https']), 'status=503 bytes= protocol=https');
    assert.equal(line([503, '', 'https']), 'status=503 bytes= protocol=https');
  });

  it('leaves undefined fields out, keeping order and single spaces', () => {
    const line = compileLine([{ key: 'sock' }, { key: 'at' }, { key: 'code' }]);
    assert.equal(line([undefined, 'info', undefined]), 'at=info');
    assert.equal(line(['backend', 'error', 'H18']), 'sock=backend at=error code=H18');
  });

  it('always quotes fields compiled with quote: always', () => {
    const line = compileLine([
      { key: 'path', quote: 'always' },
      { key: 'fwd', quote: 'always' },
    ]);
    assert.equal(line(['/', '']), 'path="/" fwd=""');
  });

  it('never lets a value forge a second line or field', () => {
    const forged = '/a"b\r\nat=info code=H99';
    const line = compileLine([{ key: 'path', quote: 'always' }, { key: 'status' }])([forged, 200]);
    assert.equal(line, 'path="/a\\"b\\r\\nat=info code=H99" status=200');
    assert.ok(!/[\r\n]/.test(line));
    const parsed = parseLogfmt(line);
    assert.deepEqual(parsed, [
      ['path', forged],
      ['status', '200'],
    ]);
  });

  it('escapes every control character, DEL, C1 and line separators', () => {
    for (let c = 0; c < 0x20; c++)
      assert.ok(!/[\u0000-\u001f]/.test(quoteValue(`x${String.fromCharCode(c)}y`)));
    assert.equal(quoteValue('\u007f'), '"\\u007f"');
    assert.equal(quoteValue('\u0085'), '"\\u0085"');
    assert.equal(quoteValue('\u2028'), '"\\u2028"');
    assert.equal(quoteValue('back\\slash'), '"back\\\\slash"');
  });

  it('round-trips arbitrary strings through the reader', () => {
    const samples = [
      '',
      ' ',
      '"',
      '\\',
      '\\"',
      'a=b c',
      'é ü',
      '\u0000\u0001',
      'tab\there',
      '\\u0041',
    ];
    for (const s of samples) {
      const line = formatFields({ k: s, next: 'x' });
      assert.deepEqual(
        parseLogfmt(line),
        [
          ['k', s],
          ['next', 'x'],
        ],
        JSON.stringify(s),
      );
    }
  });

  it('makes user keys safe and refuses unsafe compiled keys', () => {
    assert.equal(safeKey('user id="x"'), 'user_id__x_');
    assert.equal(safeKey(''), '_');
    assert.throws(() => compileLine([{ key: 'bad key' }]), /not safe/);
  });

  it('a compiled line remembers the last value of each field, never a stale one', () => {
    // Reference: every field formatted afresh, as the writer did before it kept a memo.
    const specs = [{ key: 'at' }, { key: 'path', quote: 'always' as const }, { key: 'n' }];
    const fresh = (values: readonly LogfmtValue[]) =>
      specs
        .map((f, i) => {
          const v = values[i];
          if (v === undefined) return null;
          const quoted = f.quote === 'always' && (typeof v === 'string' || v === null);
          return `${f.key}=${quoted ? quoteValue(v ?? '') : formatValue(v)}`;
        })
        .filter((x) => x !== null)
        .join(' ');
    const line = compileLine(specs);
    const random = seededRandom(11);
    const pool: LogfmtValue[] = ['info', 'a b', '', null, undefined, 0, 1, 1.5, Number.NaN, true];
    const pick = () => pool[Math.floor(random() * pool.length)];
    for (let i = 0; i < 5000; i++) {
      const values = [pick(), pick(), pick()];
      assert.equal(line(values), fresh(values), JSON.stringify(values));
    }
    // An object may change between two lines: it is formatted every time.
    const step = { user: 1 } as unknown as LogfmtValue;
    assert.equal(line(['info', '/', step]), 'at=info path="/" n="{\\"user\\":1}"');
    (step as unknown as { user: number }).user = 2;
    assert.equal(line(['info', '/', step]), 'at=info path="/" n="{\\"user\\":2}"');
  });
});

describe('logfmt reader', () => {
  it('reads bare values with equals signs (old router lines with unquoted paths)', () => {
    assert.deepEqual(parseLogfmt('path=/a?b=c status=200'), [
      ['path', '/a?b=c'],
      ['status', '200'],
    ]);
  });

  it('tolerates bare words and an unterminated quote', () => {
    assert.deepEqual(parseLogfmt('flag desc="never closed'), [
      ['flag', 'true'],
      ['desc', 'never closed'],
    ]);
  });
});
