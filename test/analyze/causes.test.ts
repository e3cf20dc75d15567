import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeFile, analyzeText, verdicts } from './analyze-helpers.js';

/** Each hand-made log, in its input format, and the causes the analyzer must name on it. */
const CASES: ReadonlyArray<{ file: string; format: string; expect: string[] }> = [
  {
    file: 'heroku-crash.txt',
    format: 'heroku',
    expect: ['H10 crashed-dyno', 'H13 app-crash', 'H13 app-crash'],
  },
  { file: 'heroku-guard.txt', format: 'heroku', expect: ['H13 silent-close'] },
  { file: 'heroku-deploy.txt', format: 'heroku', expect: ['H13 deploy-race'] },
  { file: 'heroku-restart.txt', format: 'heroku', expect: ['H13 restart-race'] },
  { file: 'heroku-old.txt', format: 'heroku', expect: ['H12 unknown', 'H13 app-crash'] },
  // No evidence beyond the router lines: unknown, the signature named in the reason only.
  { file: 'router2.txt', format: 'heroku', expect: ['H13 unknown', 'H13 unknown'] },
  { file: 'papertrail.txt', format: 'papertrail', expect: ['H13 app-crash', 'H27 client-side'] },
  { file: 'drain.txt', format: 'syslog', expect: ['H13 app-crash'] },
  {
    file: 'gunicorn.txt',
    format: 'heroku',
    expect: ['H13 worker-timeout', 'H13 worker-timeout', 'H13 worker-timeout'],
  },
  {
    file: 'boot.txt',
    format: 'heroku',
    expect: ['H10 boot-failure', 'H10 boot-failure', 'R10 boot-failure'],
  },
  {
    file: 'misc.txt',
    format: 'heroku',
    expect: [
      'H12 unknown',
      'H13 bad-client',
      'H13 out-of-memory',
      'H13 unknown',
      'H13 unknown',
      'H18 unknown',
      'H27 client-side',
      'H28 client-side',
      'R14 out-of-memory',
    ],
  },
];

describe('analyze names the cause of each router error', () => {
  for (const c of CASES) {
    it(`${c.file} (${c.format})`, async () => {
      const { result, diagnoses } = await analyzeFile(c.file);
      assert.deepEqual(verdicts(diagnoses), [...c.expect].sort());
      const s = result.stats;
      assert.equal(s.parsed + s.unparsed, s.records, 'every entry is parsed or counted unparsed');
      assert.ok((s.formats[c.format] ?? 0) > 0, `read as ${c.format}`);
      assert.equal(result.aggregate.total, diagnoses.length);
    });
  }

  it('reports at=info router codes (H80, H81, H82) as errors, not as plain requests', () => {
    const line = (code: string, desc: string, sec: number) =>
      `2026-03-02T10:15:0${sec}.123456+00:00 heroku[router]: at=info code=${code} desc="${desc}" method=GET path="/" host=demo.herokuapp.com request_id=0b7c6a52-9f3e-4d1b-8a7e-3c2f1e0d9b8${sec} fwd="203.0.113.9" dyno= connect= service= status=503 bytes= protocol=https\n`;
    const { diagnoses } = analyzeText(
      line('H80', 'Maintenance mode', 1) +
        line('H81', 'Blank app', 2) +
        line('H82', 'Free dyno quota exhausted', 3),
    );
    assert.deepEqual(diagnoses.map((d) => d.code).sort(), ['H80', 'H81', 'H82']);
  });

  it('an H10 after many crashes names the latest one, not the oldest still in its window', () => {
    // 120 crashes over eight minutes on six dynos: more than an error keeps as evidence.
    const start = Date.parse('2026-03-02T10:00:00Z') * 1000;
    const ts = (us: number) => new Date(us / 1000).toISOString().replace('Z', '000+00:00');
    let text = '';
    for (let i = 0; i < 120; i++) {
      const t = start + i * 4_000_000;
      const dyno = `web.${1 + (i % 6)}`;
      text += `${ts(t)} heroku[${dyno}]: State changed from up to crashed\n`;
      text += `${ts(t + 1000)} heroku[${dyno}]: Process exited with status ${i === 119 ? 137 : 1}\n`;
    }
    const h10 = start + 119 * 4_000_000 + 2_000_000;
    text += `${ts(h10)} heroku[router]: at=error code=H10 desc="App crashed" method=GET path="/" host=demo.herokuapp.com request_id=1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d fwd="203.0.113.9" dyno= connect= service= status=503 bytes= protocol=https\n`;
    const { diagnoses } = analyzeText(text);
    const d = diagnoses[0];
    assert.equal(d?.cause, 'crashed-dyno');
    assert.match(d?.reason ?? '', /web\.6 crashed \(status 137\)/);
  });

  it('a crash: the stack trace and the exit are the proof, frames deduplicated', async () => {
    const { diagnoses } = await analyzeFile('heroku-crash.txt');
    const crash = diagnoses.find((d) => d.code === 'H13' && d.method === 'POST');
    assert.ok(crash !== undefined);
    assert.equal(crash.confidence, 'high');
    assert.equal(crash.route, '/orders/:id');
    assert.ok(crash.evidence.some((e) => e.line.includes('Error: boom')));
    assert.ok(crash.evidence.some((e) => e.line.includes('Process exited with status 1')));
    assert.ok(crash.frames.includes('handler (/app/server.js:12)'));
    // Proof lines come in time order.
    const times = crash.evidence.map((e) => e.micros);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
    );
  });

  it('the guard line with the same request id is the strongest evidence', async () => {
    const { diagnoses } = await analyzeFile('heroku-guard.txt');
    const d = diagnoses[0];
    assert.ok(d !== undefined);
    assert.equal(d.confidence, 'high');
    assert.equal(d.evidence[0]?.kind, 'guard');
    assert.match(d.reason, /socket destroyed by handler/);
    assert.deepEqual(d.frames, ['render (/app/reports.js:88)', 'handle (/app/app.js:40)']);
  });

  it('a deploy race cites the release and the SIGTERM', async () => {
    const { diagnoses } = await analyzeFile('heroku-deploy.txt');
    const kinds = diagnoses[0]?.evidence.map((e) => e.kind);
    assert.deepEqual(kinds, ['release', 'sigterm', 'exit']);
  });

  it('drain frames: concatenated frames split, token slots tolerated, truncated frame counted', async () => {
    const { result } = await analyzeFile('drain.txt');
    assert.equal(result.stats.records, 7);
    assert.equal(result.stats.truncatedFrames, 1);
    assert.equal(result.stats.unparsed, 0);
  });

  it('worker timeouts of gunicorn, puma and unicorn are all recognised', async () => {
    const { diagnoses } = await analyzeFile('gunicorn.txt');
    const lines = diagnoses.map((d) => d.evidence[0]?.line ?? '');
    assert.ok(lines.some((l) => l.includes('WORKER TIMEOUT')));
    assert.ok(lines.some((l) => l.includes('Terminating timed out worker')));
    assert.ok(lines.some((l) => l.includes('timeout (31s > 30s)')));
  });

  it('the unparsed line is counted and shown', async () => {
    const { result } = await analyzeFile('misc.txt');
    assert.equal(result.stats.unparsed, 1);
    assert.deepEqual(result.stats.unparsedSamples, ['this line is not a log line']);
  });
});
