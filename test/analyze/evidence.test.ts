import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { EventRing } from '../../src/analyze/event-ring.js';
import { classifyApp, type Evidence, mayBeEvidence } from '../../src/analyze/evidence.js';
import { dataFile, rng } from './analyze-helpers.js';

const PIECES = [
  '    at ',
  'handler (/app/server.js:12:11)',
  'File "/app/x.py", line 3, in f',
  'from /app/x.rb:10:in `f`',
  'lib/app.go:42 ',
  'Error: ',
  'TypeError [ERR_X]: ',
  'Traceback (most recent call last)',
  'WORKER TIMEOUT',
  'timeout (31s > 30s)',
  'JavaScript heap out of memory',
  'Uncaught ',
  'throw err',
  'node:internal/process',
  'FATAL ',
  'ok',
  ' ',
  '\t',
  'x'.repeat(5000),
  'é',
];

function appMessages(): string[] {
  const dir = dataFile('');
  const fromFixtures = readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .flatMap((f) => readFileSync(dataFile(f), 'utf8').split('\n'))
    .map((l) => l.slice(l.indexOf(']: ') + 3));
  const rand = rng(77);
  const made: string[] = [];
  for (let i = 0; i < 5000; i++) {
    let m = '';
    const n = 1 + Math.floor(rand() * 4);
    for (let k = 0; k < n; k++) m += PIECES[Math.floor(rand() * PIECES.length)] as string;
    made.push(m);
  }
  return [...fromFixtures, ...made];
}

describe('evidence pre-check on the whole line', () => {
  it('never rules out a message classifyApp would take, whatever the head before it', () => {
    let evidence = 0;
    for (const message of appMessages()) {
      for (const head of ['', '2026-03-02T10:15:05.004400+00:00 app[web.1]: ', 'at ']) {
        const found = classifyApp(message) !== null;
        if (found) evidence++;
        if (found) assert.ok(mayBeEvidence(head + message, head.length), JSON.stringify(message));
      }
    }
    assert.ok(evidence > 1000, `only ${evidence} messages were evidence`);
  });
});

function event(n: number, process: string, kind: Evidence['kind'] = 'exit'): Evidence {
  return { kind, micros: n, process, line: `line ${n}`, message: '', detail: '' };
}

describe('event ring chains', () => {
  it("gives a dyno's events and the releases in the order a full scan gives them", () => {
    const rand = rng(5);
    const ring = new EventRing(16);
    const all: Evidence[] = [];
    const processes = ['web.1', 'web.2', 'web.3', 'api', 'worker.1'];
    for (let n = 0; n < 2000; n++) {
      const process = processes[Math.floor(rand() * processes.length)] as string;
      const e = event(n, process, rand() < 0.15 ? 'release' : 'exit');
      ring.push(e);
      all.push(e);
      const held = all.slice(-16);
      for (const dyno of ['web.1', 'web.2', 'web.9']) {
        const out: number[] = [];
        // Bounds below, inside and above what is held (times are in push order here).
        const ownFrom = n - Math.floor(rand() * 24);
        const releasesFrom = n - Math.floor(rand() * 24);
        const count = ring.forDyno(dyno, out, ownFrom, releasesFrom);
        const got = out.slice(0, count).map((i) => ring.at(i));
        const expected = held.filter((x) =>
          x.kind === 'release'
            ? x.micros >= releasesFrom
            : x.process === dyno && x.micros >= ownFrom,
        );
        assert.deepEqual(got, expected);
      }
      const from = n - Math.floor(rand() * 24);
      const out: number[] = [];
      const count = ring.recent(from, out);
      assert.deepEqual(
        out.slice(0, count).map((i) => ring.at(i)),
        held.filter((x) => x.micros >= from),
      );
    }
  });
});
