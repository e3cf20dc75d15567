import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration } from '../../src/core/duration.js';
import { H13Error, isH13Error } from '../../src/core/errors.js';
import { escapeHtml } from '../../src/core/html.js';
import { createLogSink } from '../../src/core/log-sink.js';
import { isValidRequestId, requestIdFrom } from '../../src/core/request-id.js';
import {
  ID_LINE_PREFIX,
  idLineHead,
  idOfLine,
  newRequestId,
  takeIdLineTail,
} from '../../src/core/uuid.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids', () => {
  it("keeps ids that pass Heroku's rule and replaces the others with a UUID", () => {
    const good = 'abcdefghij0123456789+/=-';
    assert.ok(isValidRequestId(good));
    assert.equal(requestIdFrom(good), good);
    for (const bad of [
      'short',
      'a'.repeat(201),
      'has space in it 1234567890',
      'semi;colon-1234567890123',
      undefined,
      null,
      '',
    ]) {
      assert.ok(!isValidRequestId(bad));
      assert.match(requestIdFrom(bad), UUID);
    }
    assert.ok(isValidRequestId('a'.repeat(20)) && isValidRequestId('a'.repeat(200)));
    assert.ok(!isValidRequestId('a'.repeat(19)));
  });

  it('accepts exactly the characters of the rule, judged character by character', () => {
    const allowed = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-';
    const rule = {
      test: (v: string) =>
        v.length >= 20 && v.length <= 200 && [...v].every((c) => allowed.includes(c)),
    };
    // Above 255 too: a character whose low byte is allowed (U+0141, 0x41 'A') must not pass.
    for (let code = 0; code < 0x300; code++) {
      const one = String.fromCharCode(code);
      for (const value of [one.repeat(20), `${'a'.repeat(19)}${one}`, `${one}${'Z'.repeat(30)}`])
        assert.equal(isValidRequestId(value), rule.test(value), `code ${code}`);
    }
    assert.ok(!isValidRequestId(`${'a'.repeat(24)}\u{1F600}`));
  });

  it('makes distinct version-4 UUIDs across entropy refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const id = newRequestId();
      assert.match(id, UUID);
      seen.add(id);
    }
    assert.equal(seen.size, 10_000);
  });

  it('makes distinct version-4 UUIDs in two pieces: a shared head, a random tail per id', () => {
    const next = () => {
      const tail = takeIdLineTail();
      const head = idLineHead();
      // The pieces are the two halves of the echoed header line.
      assert.ok(head.startsWith(ID_LINE_PREFIX), head);
      assert.ok(tail.endsWith('\r\n') && tail.length === 19, JSON.stringify(tail));
      return idOfLine(head, tail);
    };
    // More than one head and more than one refill of the entropy pool.
    const ids = Array.from({ length: 9_000 }, next);
    for (const id of ids) assert.match(id, UUID);
    assert.equal(new Set(ids).size, ids.length);
    const heads = new Set(ids.map((id) => id.slice(0, 19)));
    assert.ok(heads.size >= Math.floor(ids.length / 256), `${heads.size} heads`);
    // The tails are random, not counted: knowing one id does not name the next one.
    const tails = ids.map((id) => id.slice(19));
    assert.equal(new Set(tails).size, tails.length);
    const low = (t: string) => Number.parseInt(t.slice(-4), 16);
    const counted = tails.slice(1).filter((t, i) => low(t) === low(tails[i] as string) + 1);
    assert.ok(counted.length < tails.length / 100, `${counted.length} tails count up by one`);
  });
});

describe('durations', () => {
  it('reads units, and 0 without one', () => {
    assert.equal(parseDuration('30s', 'x'), 30_000);
    assert.equal(parseDuration('250ms', 'x'), 250);
    assert.equal(parseDuration('1.5m', 'x'), 90_000);
    assert.equal(parseDuration('0', 'x'), 0);
    assert.equal(formatDuration(30_000), '30s');
    assert.equal(formatDuration(90_000), '90s');
    assert.equal(formatDuration(120_000), '2m');
    assert.equal(formatDuration(250), '250ms');
  });

  it('refuses anything else with H13_ERR_INVALID_OPTION naming the option', () => {
    for (const bad of ['', '-1s', '5 parsecs', 'abc', '40', '1.5']) {
      assert.throws(
        () => parseDuration(bad, '--grace'),
        (err: unknown) => isH13Error(err, 'H13_ERR_INVALID_OPTION') && err.field === '--grace',
      );
    }
  });

  it('names both units when the unit is missing', () => {
    assert.throws(
      () => parseDuration('5', '--grace'),
      (err: unknown) =>
        isH13Error(err, 'H13_ERR_INVALID_OPTION') && /5s .*5ms/.test((err as Error).message),
    );
  });
});

describe('html escaping', () => {
  it('escapes the five characters that matter', () => {
    assert.equal(
      escapeHtml(`<script>alert("x&'y")</script>`),
      '&lt;script&gt;alert(&quot;x&amp;&#39;y&quot;)&lt;/script&gt;',
    );
  });
});

describe('log sink', () => {
  it('writes heroku lines and never lets app output span two lines', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => {
      text += d.toString();
    });
    const sink = createLogSink('heroku', out);
    sink.write({
      micros: Date.UTC(2026, 0, 1) * 1000,
      source: 'app',
      process: 'web.1',
      message: 'a\r\n2026-01-01T00:00:00.000000+00:00 heroku[router]: at=info',
    });
    assert.equal(
      text,
      '2026-01-01T00:00:00.000000+00:00 app[web.1]: a\\r\\n2026-01-01T00:00:00.000000+00:00 heroku[router]: at=info\n',
    );
  });

  it('writes one JSON object per line with the structured fields', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => {
      text += d.toString();
    });
    createLogSink('json', out).write({
      micros: 0,
      source: 'heroku',
      process: 'router',
      message: 'at=info',
      fields: { status: 200 },
    });
    assert.deepEqual(JSON.parse(text), {
      timestamp: '1970-01-01T00:00:00.000000+00:00',
      source: 'heroku',
      process: 'router',
      message: 'at=info',
      status: 200,
    });
  });

  it('JSON lines escape C1 controls and U+2028/2029, so app bytes cannot steer a terminal', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => {
      text += d.toString();
    });
    const message = 'a\u009b31mred\u2028b\u0085c';
    createLogSink('json', out).write({ micros: 0, source: 'app', process: 'web.1', message });
    assert.doesNotMatch(text, /[\u0080-\u009f\u2028\u2029]/);
    assert.match(text, /\\u009b31mred\\u2028b\\u0085c/);
    assert.equal(JSON.parse(text).message, message);
  });
});

describe('errors', () => {
  it('carry a stable code and the field', () => {
    const err = new H13Error('H13_ERR_INVALID_OPTION', 'bad', { field: '--port' });
    assert.ok(err instanceof Error);
    assert.equal(err.code, 'H13_ERR_INVALID_OPTION');
    assert.equal(err.field, '--port');
    assert.ok(isH13Error(err) && !isH13Error(err, 'H13_ERR_LISTEN') && !isH13Error(new Error('x')));
  });
});
