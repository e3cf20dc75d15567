/**
 * The fast path of frames whose timestamp is already in logplex's form (parsed once per
 * second, reused as written) must give exactly what the general path gives: the micros of
 * parseTimestampMicros and the line of formatLogLine, for every timestamp, odd ones included.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLogLine, parseTimestampMicros } from '../../src/core/heroku-log.js';
import { herokuLines, parseFrame } from '../../src/drain/syslog-line.js';

function expected(ts: string, message: string): { micros: number; lines: string[] } | null {
  const micros = parseTimestampMicros(ts);
  if (Number.isNaN(micros)) return null;
  const parts = message.split('\n').map((p) => (p.endsWith('\r') ? p.slice(0, -1) : p));
  const kept = parts.length > 1 ? parts.filter((p) => p !== '') : parts;
  return { micros, lines: kept.map((p) => formatLogLine(micros, 'app', 'web.1', p)) };
}

function check(ts: string, message = 'GET / 200'): void {
  const r = parseFrame(`<190>1 ${ts} host app web.1 - ${message}`);
  const want = expected(ts, message);
  if (want === null) {
    assert.equal(r, null, ts);
    return;
  }
  assert.ok(r !== null, ts);
  assert.equal(r.micros, want.micros, ts);
  assert.deepEqual(herokuLines(r), want.lines, ts);
}

describe('frame timestamps: the once-per-second path agrees with the general one', () => {
  it('canonical stamps across seconds, minutes, days and years, in and out of order', () => {
    const base = Date.UTC(2026, 11, 31, 23, 59, 58);
    for (let i = 0; i < 400; i++) {
      // Steps of 0.0137 s over the year's end, then back in time, then a repeat.
      const micros = base * 1000 + (i < 300 ? i * 13_700 : (400 - i) * 31_000);
      const second = Math.floor(micros / 1e6);
      const frac = String(micros - second * 1e6).padStart(6, '0');
      check(`${new Date(second * 1000).toISOString().slice(0, 19)}.${frac}+00:00`);
    }
    check('2024-02-29T12:00:00.000001+00:00');
    check('2024-02-29T12:00:00.000001+00:00');
  });

  it('stamps that only look canonical, or are in another form, take the general path', () => {
    for (const ts of [
      '2026-03-02T24:00:00.000000+00:00',
      '2026-02-30T10:00:00.000000+00:00',
      '2026-03-02T10:15:60.000000+00:00',
      '2026-13-02T10:15:05.000000+00:00',
      '2026-03-02T10:15:05.000000+01:00',
      '2026-03-02T10:15:05.000000-00:00',
      '2026-03-02T10:15:05.0000001+00:00',
      '2026-03-02T10:15:05.00000+00:00',
      '2026-03-02T10:15:05Z',
      '2026-03-02T10:15:05.123Z',
      '2026-03-02T10:15:05.123456789+00:00',
      '２026-03-02T10:15:05.000000+00:00',
    ]) {
      // Each after a canonical stamp of the same second, so a stale cache would show.
      check('2026-03-02T10:15:05.000001+00:00');
      check(ts);
    }
  });

  it('messages of one line, several lines, CR LF and empty lines', () => {
    const ts = '2026-03-02T10:15:05.010002+00:00';
    for (const m of ['', 'one', 'one\r', 'a\nb', 'a\r\nb\r\n', '\n\n', 'x\n\ny', '-']) check(ts, m);
  });
});
