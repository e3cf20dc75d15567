/**
 * `h13 run --drain URL`: the `heroku logs` stream as logplex delivers it, checked against a
 * receiver on 127.0.0.1 that records what arrives (headers, frames, retries) and against a
 * real `h13 drain` process (the demo's /destroy diagnosed there; a drain started late gets
 * what was buffered).
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../src/core/ports.js';
import { splitOctetFrames } from '../../src/drain/octet-frames.js';
import { parseFrame } from '../../src/drain/syslog-line.js';
import { startRun } from '../../src/run/index.js';
import { startLogDrain } from '../../src/run/log-drain.js';
import { appInfo, diagnosesOf, PASSWORD, startDrainProcess } from '../drain/drain-helpers.js';
import { CLI } from '../helpers/paths.js';
import { spawnNode } from '../helpers/process.js';
import { startHttpServer } from '../helpers/servers.js';
import { until } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'h13-run-drain-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly frames: string[];
  readonly status: number;
}

/** A drain stand-in: answers each request with the next status of `statuses` (then 200). */
async function receiver(statuses: number[] = []) {
  const got: Received[] = [];
  const server = await startHttpServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      const frames: string[] = [];
      splitOctetFrames(body, {
        frame: (b, s, e) => frames.push(b.toString('utf8', s, e)),
        problem: (kind) => frames.push(`PROBLEM ${kind}`),
      });
      const status = statuses.shift() ?? 200;
      got.push({ headers: req.headers, frames, status });
      res.writeHead(status).end();
    });
  });
  return { server, got, ok: () => got.filter((r) => r.status === 200) };
}

const entry = (message: string, source = 'app', proc = 'web.1') => ({
  micros: Date.UTC(2026, 11, 6, 10, 0, 0) * 1000 + 123_456,
  source,
  process: proc,
  message,
});

describe('the log drain forwarder', () => {
  it('posts logplex batches: headers, Basic auth from the URL, frames the drain reads back', async () => {
    const r = await receiver();
    try {
      const drain = startLogDrain({
        url: `http://h13:s%40cret@127.0.0.1:${r.server.port}/drain/x`,
      });
      drain.write(entry('hello'));
      drain.write(entry('at=info method=GET path="/" status=200', 'heroku', 'router'));
      drain.write(entry('two\nlines \u001b[31m'));
      const stats = await drain.close(5000);
      assert.equal(stats.delivered, 3);
      const [first] = r.got;
      assert.ok(first !== undefined);
      const h = first.headers;
      assert.equal(h['content-type'], 'application/logplex-1');
      assert.equal(h['logplex-msg-count'], '3');
      assert.match(String(h['logplex-frame-id']), /^[0-9A-F]{32}$/);
      assert.match(String(h['logplex-drain-token']), /^d\.[0-9a-f-]{36}$/);
      assert.equal(h.authorization, `Basic ${Buffer.from('h13:s@cret').toString('base64')}`);
      const records = first.frames.map((f) => parseFrame(f));
      assert.deepEqual(
        records.map((x) => x && `${x.source}[${x.process}]: ${x.message}`),
        [
          'app[web.1]: hello',
          'heroku[router]: at=info method=GET path="/" status=200',
          'app[web.1]: two\\nlines \\u001b[31m',
        ],
      );
      assert.equal(records[0]?.micros, entry('').micros);
    } finally {
      await r.server.close();
    }
  });

  it('retries a 503 and a 429 with the same Frame-Id, and drops a 401 batch, counted', async () => {
    const r = await receiver([503, 429]);
    const reports: string[] = [];
    try {
      const drain = startLogDrain({
        url: `http://127.0.0.1:${r.server.port}/drain/x`,
        retryMaxMs: 20,
        report: (m) => reports.push(m),
      });
      drain.write(entry('one'));
      await until(() => r.ok().length === 1, 10_000, 'the batch delivered after two retries');
      assert.deepEqual(
        r.got.map((g) => g.status),
        [503, 429, 200],
      );
      const ids = new Set(r.got.map((g) => g.headers['logplex-frame-id']));
      assert.equal(ids.size, 1, 'one Frame-Id for the batch and its retries');
      assert.equal(drain.stats().retries, 2);
      const refusing = await receiver([401]);
      try {
        const drain2 = startLogDrain({
          url: `http://127.0.0.1:${refusing.server.port}/drain/x`,
          report: (m) => reports.push(m),
        });
        drain2.write(entry('refused'));
        drain2.write(entry('refused too'));
        const s = await drain2.close(5000);
        assert.equal(s.rejected, 2);
        assert.equal(s.delivered, 0);
        assert.equal(refusing.got.length, 1, 'a 401 is not retried');
      } finally {
        await refusing.server.close();
      }
      await drain.close(5000);
      assert.ok(
        reports.some((m) => /refused a batch of 2 lines with 401/.test(m)),
        reports.join('\n'),
      );
    } finally {
      await r.server.close();
    }
  });

  it('holds at most bufferLines while the drain is down, drops the oldest, reports the loss as L10', async () => {
    const port = await freePort();
    const reports: string[] = [];
    const drain = startLogDrain({
      url: `http://127.0.0.1:${port}/drain/x`,
      bufferLines: 5,
      retryMaxMs: 20,
      report: (m) => reports.push(m),
    });
    drain.write(entry('line 0'));
    await until(() => drain.stats().retries >= 1, 10_000, 'a refused connection retried');
    // line 0 is the batch in flight; lines 1..20 queue behind it, 5 at most.
    for (let i = 1; i <= 20; i++) drain.write(entry(`line ${i}`));
    assert.equal(drain.stats().dropped, 15);
    assert.equal(drain.stats().pending, 6);
    const r = await receiver();
    await new Promise<void>((resolve, reject) => {
      r.server.server.close();
      r.server.server.once('error', reject);
      r.server.server.listen(port, '127.0.0.1', resolve);
    });
    try {
      await until(() => drain.stats().pending === 0, 10_000, 'the buffer delivered');
      const messages = r
        .ok()
        .flatMap((g) => g.frames.map((f) => parseFrame(f)?.message ?? `unreadable: ${f}`));
      assert.equal(messages[0], 'line 0');
      assert.match(
        messages[1] ?? '',
        /^Error L10 \(output buffer overflow\): 15 messages dropped since \d{4}-/,
      );
      assert.deepEqual(messages.slice(2), ['line 16', 'line 17', 'line 18', 'line 19', 'line 20']);
      const s = await drain.close(5000);
      assert.deepEqual([s.delivered, s.dropped], [6, 15]);
      assert.ok(reports.some((m) => /buffer \(5 lines\) is full/.test(m)));
      assert.ok(reports.some((m) => /delivering to .* again/.test(m)));
    } finally {
      await r.server.close();
    }
  });

  it('gives up at close after flushMs when the drain never answers, counting what was left', async () => {
    const port = await freePort();
    const drain = startLogDrain({ url: `http://127.0.0.1:${port}/drain/x`, retryMaxMs: 20 });
    drain.write(entry('lost'));
    const s = await drain.close(100);
    assert.deepEqual([s.delivered, s.dropped, s.pending], [0, 1, 0]);
    assert.deepEqual(drain.stats(), s, 'nothing counted twice after close');
    drain.write(entry('after close'));
    assert.equal(drain.stats().pending, 0, 'ignored after close');
  });

  it('refuses a URL that is not http(s)', () => {
    assert.throws(() => startLogDrain({ url: 'ftp://127.0.0.1/x' }), /H13_ERR_INVALID_URL|ftp/);
    assert.throws(() => startLogDrain({ url: 'not a url' }), /not a URL/);
  });
});

describe('h13 run --drain against a real h13 drain', () => {
  it("the demo's /destroy is diagnosed in the drain (CLI)", async () => {
    const drain = await startDrainProcess(join(dir, 'cli.db'), ['--window', '1s']);
    const url = new URL(drain.url);
    const drainUrl = `http://h13:${PASSWORD}@127.0.0.1:${url.port}/drain/demo-cli`;
    const run = spawnNode(CLI, [
      'run',
      '--port',
      '0',
      '--drain',
      drainUrl,
      '--grace',
      '2s',
      '--',
      process.execPath,
      CLI,
      'demo',
    ]);
    try {
      const m = await run.waitFor(/router on (http:\/\/\S+)/, 20_000);
      assert.doesNotMatch(run.stderr(), new RegExp(PASSWORD), 'the password is never printed');
      await run.waitFor(/State changed from starting to up/, 20_000);
      await fetch(`${m[1]}/destroy`).catch(() => undefined);
      await until(
        async () => (await diagnosesOf(drain.url, 'demo-cli')).length > 0,
        20_000,
        'a diagnosis of demo-cli',
      );
      const [d] = await diagnosesOf(drain.url, 'demo-cli');
      assert.equal(d?.code, 'H13');
      assert.equal(d?.cause, 'silent-close');
      run.child.kill('SIGTERM');
      await run.exited(20_000);
      assert.match(run.stderr(), /h13 run: drain: \d+ lines delivered, 0 dropped, 0 refused/);
      const info = await appInfo(drain.url, 'demo-cli');
      assert.ok((info?.drainTokens.length ?? 0) === 1);
    } finally {
      run.kill();
      drain.proc.kill();
    }
  });

  it('a drain that is down at first gets the buffered lines once it comes up (library)', async () => {
    const port = await freePort();
    const reports: string[] = [];
    const run = await startRun({
      command: [process.execPath, CLI, 'demo'],
      log: null,
      collect: true,
      drain: {
        url: `http://h13:${PASSWORD}@127.0.0.1:${port}/drain/demo-late`,
        retryMaxMs: 200,
        report: (m) => reports.push(m),
      },
    });
    let drain: Awaited<ReturnType<typeof startDrainProcess>> | undefined;
    try {
      await run.whenUp();
      await fetch(`${run.url}/destroy`).catch(() => undefined);
      await run.waitForRecord((r) => r.path === '/destroy', 15_000);
      await until(() => (run.drainStats()?.retries ?? 0) >= 1, 15_000, 'a failed delivery');
      drain = await startDrainProcess(join(dir, 'late.db'), [
        '--port',
        String(port),
        '--window',
        '1s',
      ]);
      await until(
        async () => (await diagnosesOf(drain?.url ?? '', 'demo-late').catch(() => [])).length > 0,
        20_000,
        'the diagnosis from buffered lines',
      );
      const [d] = await diagnosesOf(drain.url, 'demo-late');
      assert.equal(d?.cause, 'silent-close');
      assert.equal(run.drainStats()?.dropped, 0);
      assert.ok(
        reports.some((m) => /cannot deliver/.test(m)),
        reports.join('\n'),
      );
    } finally {
      await run.stop();
      drain?.proc.kill();
    }
    const s = run.drainStats();
    assert.equal(s?.pending, 0);
    assert.equal(s?.delivered, run.lines.length, 'every line of the run reached the drain');
  });
});
