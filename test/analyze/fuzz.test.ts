import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Analyzer, LIMITS } from '../../src/analyze/analyzer.js';
import { createFeeder, MAX_LINE_BYTES } from '../../src/analyze/input.js';
import { formatTimestamp } from '../../src/core/heroku-log.js';
import { formatRouterMessage } from '../../src/core/router-line.js';
import { analyzeText, rng, routerRecord, verdicts } from './analyze-helpers.js';

const SEEDS = [
  '2026-03-02T10:15:05.010002+00:00 heroku[router]: at=error code=H13 desc="Connection closed without response" method=POST path="/orders" host=demo.herokuapp.com request_id=5d3f2a10-6b8c-4e7f-9a01-2b3c4d5e6f70 fwd="203.0.113.9" dyno=web.1 connect=1ms service=40ms status=503 bytes=0 protocol=https',
  '2026-03-02T10:15:05.004400+00:00 app[web.1]:     at handler (/app/server.js:12:11)',
  '2026-03-02T10:15:05.090000+00:00 heroku[web.1]: Process exited with status 1',
  '2026-03-02T12:00:00.000000+00:00 app[api]: Release v42 created by user dev@example.com',
  '93 <45>1 2026-03-02T10:15:05.090000+00:00 t.0a1b2c3d heroku web.1 - Process exited with status 191 <45>1 2026-03-02T10:15:05.100000+00:00 host heroku web.1 - State changed from up to crashed',
  'Mar  2 10:15:05 demo-app heroku/web.1: State changed from up to crashed',
  '{"timestamp":"2026-03-02T10:15:05.010002+00:00","source":"heroku","process":"router","message":"at=error code=H18 method=GET path=/x dyno=web.1"}',
  'at=error code=H13 request_id=dddddddd-1111-4222-8333-444444444444 method=POST path="/x" cause="uncaught exception"',
];

function mutate(line: string, rand: () => number): string {
  const chars = [...line];
  const edits = 1 + Math.floor(rand() * 6);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rand() * (chars.length + 1));
    const op = rand();
    if (op < 0.3) chars.splice(at, 1);
    else if (op < 0.6) chars.splice(at, 0, String.fromCharCode(Math.floor(rand() * 256)));
    else if (op < 0.8) chars.splice(at, Math.floor(rand() * 20));
    else chars.splice(at, 0, pickToken(rand));
  }
  return chars.join('').replace(/\n/g, ' ');
}

function pickToken(rand: () => number): string {
  const t = [
    '"',
    '\\',
    '=',
    ' ',
    '<',
    '999999999 ',
    'at=error ',
    'code=H13 ',
    'dyno=web.1 ',
    '\u0000',
    '\ufffd',
    '[',
    ']: ',
  ];
  return t[Math.floor(rand() * t.length)] as string;
}

describe('fuzz: nothing crashes, every entry is accounted for, memory stays bounded', () => {
  it('seeded mutations, random bytes and truncated frames', () => {
    const rand = rng(1313);
    const analyzer = new Analyzer();
    const feeder = createFeeder(analyzer);
    let expectedLines = 0;
    for (let round = 0; round < 4000; round++) {
      const kind = rand();
      let chunk: Buffer;
      if (kind < 0.6) {
        chunk = Buffer.from(
          `${mutate(SEEDS[Math.floor(rand() * SEEDS.length)] as string, rand)}\n`,
        );
      } else if (kind < 0.8) {
        const bytes = Buffer.alloc(1 + Math.floor(rand() * 300));
        for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
        chunk = Buffer.concat([bytes, Buffer.from('\n')]);
      } else {
        const frame = SEEDS[4] as string;
        chunk = Buffer.from(`${frame.slice(0, Math.floor(rand() * frame.length))}\n`);
      }
      expectedLines += chunk.reduce((n, b) => n + (b === 10 ? 1 : 0), 0);
      // Feed in random slices: chunk boundaries fall anywhere, even inside UTF-8 sequences.
      let pos = 0;
      while (pos < chunk.length) {
        const step = 1 + Math.floor(rand() * 64);
        feeder.write(chunk.subarray(pos, pos + step));
        pos += step;
      }
    }
    feeder.end();
    const { stats } = analyzer.finish();
    assert.equal(stats.lines, expectedLines);
    assert.equal(stats.parsed + stats.unparsed, stats.records);
    assert.ok(stats.unparsed > 0 && stats.parsed > 0);
    assert.ok(stats.unparsedSamples.length <= LIMITS.unparsedSamples);
    for (const s of stats.unparsedSamples) assert.doesNotMatch(s, /[\u0000-\u001f\u007f]/);
  });

  it('a 10 MB line is counted as oversized and skipped, without being buffered', () => {
    const analyzer = new Analyzer();
    const feeder = createFeeder(analyzer);
    const before = process.memoryUsage().arrayBuffers;
    feeder.write(Buffer.from('2026-03-02T10:15:04.000000+00:00 app[web.1]: first\n'));
    const block = Buffer.alloc(1024 * 1024, 0x61);
    let peak = 0;
    for (let i = 0; i < 10; i++) {
      feeder.write(block);
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    }
    feeder.write(Buffer.from('\n2026-03-02T10:15:05.000000+00:00 app[web.1]: after\n'));
    // And an oversized line that arrives inside one big chunk.
    feeder.write(
      Buffer.concat([Buffer.from('x'.repeat(MAX_LINE_BYTES * 2)), Buffer.from('\nshort\n')]),
    );
    feeder.end();
    const { stats } = analyzer.finish();
    assert.equal(stats.oversized, 2);
    assert.equal(stats.parsed, 2);
    assert.equal(stats.unparsed, 3); // two oversized lines and `short`
    assert.equal(stats.parsed + stats.unparsed, stats.records);
    // The carried part of a long line never exceeds the cap (plus the chunk being read).
    assert.ok(peak < MAX_LINE_BYTES * 4 + block.length * 2, `buffered ${peak} bytes`);
  });

  it('lines around the cap, in chunks of every size: each one over it is found, no other', () => {
    const rand = rng(23);
    const cap = 64;
    for (let round = 0; round < 300; round++) {
      // Lengths clustered at the cap (cap - 1, cap, cap + 1, …) and some far from it.
      const lengths = Array.from({ length: 1 + Math.floor(rand() * 40) }, () =>
        rand() < 0.6 ? cap - 2 + Math.floor(rand() * 5) : Math.floor(rand() * cap * 4),
      );
      const text = lengths.map((n) => 'x'.repeat(n)).join('\n') + (rand() < 0.5 ? '\n' : '');
      const bytes = Buffer.from(text);
      const analyzer = new Analyzer();
      const feeder = createFeeder(analyzer, cap);
      for (let at = 0; at < bytes.length; ) {
        const size = rand() < 0.3 ? bytes.length : 1 + Math.floor(rand() * cap * 6);
        feeder.write(bytes.subarray(at, at + size));
        at += size;
      }
      feeder.end();
      const { stats } = analyzer.finish();
      const over = lengths.filter((n) => n > cap).length;
      assert.equal(stats.oversized, over, `round ${round}: ${lengths.join(',')}`);
      assert.equal(stats.lines, lengths.length, `round ${round}: ${lengths.join(',')}`);
    }
  });

  it('structures stay capped: many dynos, many routes, many pending errors', () => {
    const analyzer = new Analyzer({ windowMs: 60_000 });
    const feeder = createFeeder(analyzer);
    const t0 = Date.parse('2026-03-02T10:00:00Z') * 1000;
    const lines: string[] = [];
    for (let i = 0; i < 30_000; i++) {
      const micros = t0 + i * 1000;
      const dyno = `web.${i % 400}`;
      lines.push(`${formatTimestamp(micros)} app[${dyno}]: line ${i} ${'x'.repeat(100)}`);
      lines.push(
        `${formatTimestamp(micros)} heroku[router]: ${formatRouterMessage(
          routerRecord({
            path: `/r${i}/thing`,
            requestId: `req-${i}-abcdefghijklmnopqrstu`,
            dyno,
            serviceMs: 5,
          }),
        )}`,
      );
    }
    feeder.write(Buffer.from(`${lines.join('\n')}\n`));
    const internals = analyzer as unknown as { rings: { size: number } };
    assert.ok(internals.rings.size > 0 && internals.rings.size <= LIMITS.dynos);
    assert.ok(analyzer.pending > 0 && analyzer.pending <= LIMITS.pending);
    assert.ok(analyzer.stats.forcedEarly > 0);
    const { aggregate } = analyzer.finish();
    assert.equal(aggregate.total, 30_000);
    assert.ok(aggregate.groups.size <= 2001, `${aggregate.groups.size} groups`);
  });

  it("more dynos than rings: an error still sees its dyno's later lines", () => {
    // The H13 waits on web.0's ring; then more dynos than LIMITS.dynos log a line each, which
    // makes rings go. web.0's must stay, or the worker timeout it logs next would land on a
    // new ring no error waits on.
    const t0 = Date.parse('2026-03-02T10:00:00Z') * 1000;
    const at = (i: number) => formatTimestamp(t0 + i * 1000);
    const record = routerRecord({ dyno: 'web.0', serviceMs: 10 });
    const lines = [`${at(0)} heroku[router]: ${formatRouterMessage(record)}`];
    for (let i = 1; i <= LIMITS.dynos + 50; i++) lines.push(`${at(i)} app[web.${i}]: hello ${i}`);
    lines.push(`${at(LIMITS.dynos + 51)} app[web.0]: [CRITICAL] WORKER TIMEOUT (pid:42)`);
    const { diagnoses } = analyzeText(`${lines.join('\n')}\n`, { windowMs: 60_000 });
    assert.deepEqual(verdicts(diagnoses), ['H13 worker-timeout']);
    assert.match(diagnoses[0]?.evidence[0]?.line ?? '', /app\[web\.0\]: .*WORKER TIMEOUT/);
  });
});
