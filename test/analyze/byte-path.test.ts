import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Analyzer } from '../../src/analyze/analyzer.js';
import { createByteTimestampReader } from '../../src/analyze/byte-scan.js';
import { buildReport } from '../../src/analyze/report.js';
import { createTimestampReader } from '../../src/analyze/timestamp.js';
import { formatTimestamp } from '../../src/core/heroku-log.js';
import { dataFile, NOW_2026, rng } from './analyze-helpers.js';

const TOKENS = [
  '"',
  '\\',
  ' ',
  ':',
  '[',
  ']',
  ']: ',
  '\t',
  '\r',
  '\u0000',
  'é',
  '日本',
  '\u001b[32m',
  'heroku[router]: at=info ',
  'app[web.1]: ',
  'heroku[web.1]: ',
  'Z',
  '+01:00',
  '.',
  '0',
  '9',
];

/** A line with a few random edits, so the byte path meets every odd head the string path does. */
function mutate(line: string, rand: () => number): string {
  const chars = [...line];
  const edits = Math.floor(rand() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rand() * Math.min(chars.length + 1, 60));
    const op = rand();
    if (op < 0.3) chars.splice(at, 1);
    else if (op < 0.5) chars.splice(at, 0, String.fromCharCode(Math.floor(rand() * 256)));
    else chars.splice(at, 0, TOKENS[Math.floor(rand() * TOKENS.length)] as string);
  }
  return chars.join('').replace(/\n/g, ' ');
}

function fixtureLines(): string[] {
  const dir = dataFile('');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .flatMap((f) => readFileSync(dataFile(f), 'utf8').split('\n'));
}

/**
 * Both paths decide pending errors after each push, so the text goes in one line per push on
 * both sides: the reports then differ only if the byte path reads a line differently.
 */
function lineRanges(bytes: Buffer): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let pos = 0;
  while (pos < bytes.length) {
    let nl = bytes.indexOf(10, pos);
    if (nl < 0) nl = bytes.length - 1;
    out.push([pos, nl + 1]);
    pos = nl + 1;
  }
  return out;
}

/** The JSON report read through the string path alone (pushText, lines decoded apart). */
function viaStrings(bytes: Buffer): unknown {
  const analyzer = new Analyzer({ nowMs: NOW_2026 });
  for (const [from, to] of lineRanges(bytes)) analyzer.pushText(bytes.toString('utf8', from, to));
  analyzer.stats.bytes = bytes.length;
  return JSON.parse(JSON.stringify(buildReport(analyzer.finish())));
}

/** The same through the byte path. */
function viaBytes(bytes: Buffer): unknown {
  const analyzer = new Analyzer({ nowMs: NOW_2026 });
  for (const [from, to] of lineRanges(bytes)) analyzer.pushBytes(bytes, from, to);
  analyzer.stats.bytes = bytes.length;
  return JSON.parse(JSON.stringify(buildReport(analyzer.finish())));
}

describe('the byte path reports what the string path reports', () => {
  it('fixtures and mutated fixture lines, whole reports compared', () => {
    const rand = rng(2024);
    const source = fixtureLines().filter((l) => l !== '');
    const lines: string[] = [];
    for (let i = 0; i < 6000; i++) {
      const line = source[Math.floor(rand() * source.length)] as string;
      lines.push(rand() < 0.5 ? line : mutate(line, rand));
      if (rand() < 0.02) lines.push('');
    }
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    // Stray bytes too: a decoder turns them into U+FFFD whichever path meets them.
    for (let i = 0; i < 50; i++) bytes[Math.floor(rand() * bytes.length)] = 0x80 + (i % 0x7f);
    assert.deepEqual(viaBytes(bytes), viaStrings(bytes));
  });

  it('request ids in app lines are found where the string path finds them', () => {
    const t0 = Date.parse('2026-03-02T10:00:00Z') * 1000;
    // [dyno, request id, app message]: ids in the message, in the process name, in the
    // timestamp, and across the head and the message.
    const cases: Array<[string, (stamp: string) => string, string]> = [
      [
        'web.1',
        () => '0001e240-9f3e-4d1b-8a7e-3c2f1e0d9b8a',
        'GET / 0001e240-9f3e-4d1b-8a7e-3c2f1e0d9b8a',
      ],
      ['web.2-request-abcdef', () => 'request-abcdef', 'handling'],
      ['web.3', (stamp) => stamp.slice(0, 19), 'handling'],
      ['web.x4', () => 'x4]: abcdefgh', 'abcdefgh started'],
      ['web.5', (stamp) => `${stamp.slice(20)} app`, 'handling'],
    ];
    const lines: string[] = [];
    cases.forEach(([dyno, idOf, message], k) => {
      const at = t0 + k * 60_000_000;
      const stamp = formatTimestamp(at);
      const id = idOf(stamp);
      lines.push(`${stamp} app[${dyno}]: ${message}`);
      lines.push(
        `${formatTimestamp(at + 200)} heroku[router]: at=error code=H13 desc="Connection closed without response" method=GET path="/" host=h request_id="${id}" fwd="1.2.3.4" dyno=${dyno} connect=0ms service=5ms status=503 bytes=0 protocol=https`,
      );
    });
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    const withId: string[] = [];
    const analyzer = new Analyzer({
      nowMs: NOW_2026,
      onDiagnosis: (d) => {
        if (d.evidence.some((e) => e.kind === 'request-id')) withId.push(d.dyno ?? '');
      },
    });
    for (const [from, to] of lineRanges(bytes)) analyzer.pushBytes(bytes, from, to);
    analyzer.finish();
    assert.deepEqual(withId.sort(), ['web.1', 'web.2-request-abcdef', 'web.3', 'web.5', 'web.x4']);
    assert.deepEqual(viaBytes(bytes), viaStrings(bytes));
  });
});

describe('byte timestamp reader', () => {
  it('agrees with the string reader on valid, odd and broken timestamps', () => {
    const rand = rng(99);
    // `+05:30` and `-08:00` have the shape of `+00:00`: the cached zone must follow a change.
    const zones = ['Z', '-0530', '+05:30', '-08:00'];
    const bytesReader = createByteTimestampReader();
    const stringReader = createTimestampReader();
    const base = Date.parse('2026-03-02T10:15:04Z') * 1000;
    for (let i = 0; i < 20_000; i++) {
      let stamp = formatTimestamp(base + Math.floor(rand() * 5_000_000));
      if (rand() < 0.2)
        stamp = stamp.replace('+00:00', zones[Math.floor(rand() * zones.length)] as string);
      if (rand() < 0.1) stamp = stamp.replace('T', ' ');
      if (rand() < 0.3) stamp = mutate(stamp, rand);
      const buf = Buffer.from(`x${stamp}`, 'latin1');
      const text = buf.toString('latin1');
      const a = bytesReader.read(buf, 1, buf.length);
      const b = stringReader.read(text, 1, text.length);
      assert.ok(Object.is(a, b), `${JSON.stringify(stamp)}: ${a} != ${b}`);
    }
  });
});
