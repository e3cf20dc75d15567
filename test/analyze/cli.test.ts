import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CLI } from '../helpers/paths.js';
import { withTimeout } from '../helpers/wait.js';
import { dataFile } from './analyze-helpers.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The built CLI with `input` on stdin (a pipe, as `heroku logs | h13 analyze`). */
function cli(args: readonly string[], input = '', env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const child = spawn(process.execPath, [CLI, 'analyze', ...args], {
    env: { ...process.env, NO_COLOR: '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(input);
  return withTimeout(
    new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))),
    20_000,
    `h13 analyze ${args.join(' ')}`,
  );
}

const dir = mkdtempSync(join(tmpdir(), 'h13-analyze-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const crashLog = readFileSync(dataFile('heroku-crash.txt'), 'utf8');

describe('h13 analyze (CLI)', () => {
  it('reads stdin and names the cause', async () => {
    const r = await cli([], crashLog);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /H13 Connection closed without response — 2/);
    assert.match(r.stdout, /app-crash/);
    assert.match(r.stdout, /fix:/);
    assert.doesNotMatch(r.stdout, /\u001b\[/, 'no colour when stdout is not a terminal');
  });

  it('reads files, .gz files (by their magic bytes) and several at once', async () => {
    const gz = join(dir, 'crash.log.gz');
    writeFileSync(gz, gzipSync(crashLog));
    const r = await cli([gz, dataFile('heroku-deploy.txt')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /app-crash/);
    assert.match(r.stdout, /deploy-race/);
  });

  it('reads named pipes, plain and gzip: h13 analyze <(heroku logs) <(zcat ...)', async () => {
    const gz = join(dir, 'crash-pipe.log.gz');
    writeFileSync(gz, gzipSync(crashLog));
    // bash's process substitution hands the CLI /dev/fd/N paths that are real pipes.
    const child = spawn(
      'bash',
      [
        '-c',
        'exec "$0" "$1" analyze <(cat "$2") <(cat "$3")',
        process.execPath,
        CLI,
        dataFile('heroku-deploy.txt'),
        gz,
      ],
      { env: { ...process.env, NO_COLOR: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await withTimeout(
      new Promise((res) => child.on('close', res)),
      20_000,
      'analyze of two pipes',
    );
    assert.equal(code, 0, stderr);
    assert.match(stdout, /deploy-race/);
    assert.match(stdout, /app-crash/);
  });

  it('gzip on stdin is decoded too', async () => {
    const child = spawn(process.execPath, [CLI, 'analyze', '--json'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stdin.end(gzipSync(crashLog));
    const code = await withTimeout(
      new Promise((res) => child.on('close', res)),
      20_000,
      'gzip stdin',
    );
    assert.equal(code, 0);
    assert.equal(JSON.parse(out).totals.byCode.H13, 2);
  });

  it('--json prints the documented schema', async () => {
    const r = await cli(['--json', dataFile('misc.txt')]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.schema, 'h13.analyze/1');
    assert.equal(report.input.parsed + report.input.unparsed, report.input.records);
    assert.equal(report.totals.errors, 6);
    assert.equal(report.totals.noise, 2);
    const g = report.groups.find((x: { cause: string }) => x.cause === 'out-of-memory');
    assert.deepEqual(Object.keys(g).sort(), [
      'cause',
      'code',
      'confidence',
      'count',
      'desc',
      'dynos',
      'firstSeen',
      'fix',
      'guard',
      'lastSeen',
      'methods',
      'noise',
      'route',
      'samples',
      'serviceMs',
      'title',
      'topFrames',
    ]);
    assert.equal(g.serviceMs.p50, 4000);
    assert.ok(g.samples[0].evidence.length >= 2);
    assert.ok(Array.isArray(report.timeline.errors.H13));
    assert.ok(report.causes.every((c: { fix: string }) => c.fix.length > 0));
  });

  it('--html writes a self-contained page', async () => {
    const html = join(dir, 'report.html');
    const r = await cli(['--html', html, dataFile('heroku-crash.txt')]);
    assert.equal(r.code, 0, r.stderr);
    const page = readFileSync(html, 'utf8');
    assert.match(page, /<svg id="timeline"/);
    assert.doesNotMatch(page, /<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it('exit codes: --fail-on matched 1, not matched 0, bad code 2, unreadable input 3, nothing read 4', async () => {
    assert.equal((await cli(['--fail-on', 'H13,H18', dataFile('heroku-crash.txt')])).code, 1);
    assert.equal((await cli(['--fail-on', 'h99', dataFile('heroku-crash.txt')])).code, 0);
    assert.equal((await cli(['--fail-on', 'H13x', dataFile('heroku-crash.txt')])).code, 2);
    assert.equal((await cli(['--bogus'])).code, 2);
    const missing = await cli([join(dir, 'nope.txt')]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /H13_ERR_INPUT/);
    const corrupt = join(dir, 'corrupt.gz');
    writeFileSync(
      corrupt,
      Buffer.concat([gzipSync(crashLog).subarray(0, 40), Buffer.from('junk')]),
    );
    // Broken after 40 bytes: nothing could be inflated, so nothing was read (4), and said so.
    const broken = await cli([corrupt]);
    assert.equal(broken.code, 4);
    assert.match(broken.stderr, /ended early/);
  });

  it('--color always colours; NO_COLOR is respected in auto mode', async () => {
    assert.match((await cli(['--color', 'always'], crashLog)).stdout, /\u001b\[/);
    assert.doesNotMatch((await cli([], crashLog, { NO_COLOR: '1' })).stdout, /\u001b\[/);
  });

  it('--follow prints each diagnosis while stdin is still open', async () => {
    const child = spawn(process.execPath, [CLI, 'analyze', '--follow', '--window', '300ms'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    const seen = new Promise<void>((resolve) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (/deploy-race/.test(out)) resolve();
      });
    });
    child.stdin.write(readFileSync(dataFile('heroku-deploy.txt')));
    await withTimeout(seen, 15_000, 'the diagnosis printed before stdin closes');
    assert.equal(child.exitCode, null, 'still running: stdin is open');
    assert.doesNotMatch(out, /^h13 analyze:/m, 'the summary waits for the end of input');
    child.stdin.end();
    const code = await withTimeout(new Promise((res) => child.on('close', res)), 15_000, 'exit');
    assert.equal(code, 0);
    assert.match(out, /^h13 analyze:/m);
  });

  it('--follow --json prints one JSON line per diagnosis, then the report', async () => {
    const r = await cli(['--follow', '--json'], crashLog);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => l.type),
      ['diagnosis', 'diagnosis', 'diagnosis', 'report'],
    );
    assert.equal(lines[0].schema, 'h13.analyze.diagnosis/1');
    assert.equal(lines[3].schema, 'h13.analyze/1');
  });
});

describe('h13 analyze (CLI): robustness', () => {
  it('a gzip cut short or followed by garbage: the report of what was read, marked, other files read', async () => {
    const whole = gzipSync(`${crashLog}${'x'.repeat(0)}`);
    const cut = join(dir, 'cut.log.gz');
    writeFileSync(cut, whole.subarray(0, whole.length - 6));
    const garbage = join(dir, 'garbage.log.gz');
    writeFileSync(garbage, Buffer.concat([whole, Buffer.from('trailing garbage')]));
    for (const file of [cut, garbage]) {
      const r = await cli(['--json', file, dataFile('heroku-deploy.txt')]);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      assert.equal(report.input.truncatedInputs.length, 1, file);
      assert.match(report.input.truncatedInputs[0], /gzip/);
      assert.ok(report.totals.byCode.H13 >= 1, 'the deploy log after it is still read');
      assert.match(r.stderr, /ended early/);
    }
    // Cut inside its trailer only: every line was inflated, and the crash is there.
    const r = await cli(['--json', cut]);
    assert.equal(JSON.parse(r.stdout).totals.byCode.H13, 2);
  });

  it('nothing parsed at all: said on stderr, exit 4 even with --fail-on', async () => {
    const r = await cli(['--fail-on', 'H13'], 'this is not a log\nnor is this\n');
    assert.equal(r.code, 4);
    assert.match(r.stderr, /nothing in the input could be read/);
  });

  it('platform errors work with --fail-on', async () => {
    const r = await cli(
      ['--fail-on', 'R14'],
      '2026-03-02T10:15:01.000000+00:00 heroku[web.1]: Error R14 (Memory quota exceeded)\n',
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /platform: 1 errors \(R14 ×1\)/);
  });

  it('JSON escapes C1 controls and U+2028/U+2029', async () => {
    const r = await cli(
      ['--json'],
      '2026-03-02T10:15:05.010002+00:00 heroku[router]: at=error code=H13 desc="x" method=GET path="/a\u009b2J\u2028\u2029" host=a dyno=web.1 connect=0ms service=1ms status=503 bytes=0\n',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /[\u0080-\u009f\u2028\u2029]/);
    assert.match(r.stdout, /\\u009b2J\\u2028\\u2029/);
    assert.equal(JSON.parse(r.stdout).groups[0].samples[0].path, '/a\u009b2J\u2028\u2029');
  });

  it('--follow FILE follows a growing file and never reads a half-written last line', async () => {
    const file = join(dir, 'growing.log');
    writeFileSync(file, '');
    const child = spawn(process.execPath, [CLI, 'analyze', '--follow', '--window', '200ms', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const printed = (re: RegExp) =>
      new Promise<void>((resolve) => {
        const check = () => re.test(out) && resolve();
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          check();
        });
        check();
      });
    writeFileSync(file, crashLog, { flag: 'a' });
    await withTimeout(printed(/app-crash/), 15_000, 'the diagnosis of the appended lines');
    // A router line written in two parts: nothing of it is read before its newline.
    const line =
      '2026-03-02T10:20:00.000000+00:00 heroku[router]: at=error code=H18 desc="Server Request Interrupted" method=GET path="/late" host=a dyno=web.1 connect=0ms service=1ms status=503 bytes=10';
    writeFileSync(file, line.slice(0, 90), { flag: 'a' });
    child.kill('SIGINT');
    const code = await withTimeout(new Promise((res) => child.on('close', res)), 15_000, 'exit');
    assert.equal(code, 0, err);
    assert.match(out, /^h13 analyze:/m, 'the summary at the end');
    assert.doesNotMatch(out, /H18/, 'the half-written line is not analyzed');
    assert.match(err, /half-written last line \(90 bytes\)/);
  });
});
