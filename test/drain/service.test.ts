import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dataFile } from '../analyze/analyze-helpers.js';
import { until, withTimeout } from '../helpers/wait.js';
import {
  appInfo,
  BASIC,
  type DrainProcess,
  diagnosesOf,
  PASSWORD,
  postFrames,
  send,
  startDrainProcess,
} from './drain-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'h13-drain-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** `h13 run`'s format: heroku logs lines (test/data/analyze, written in that format). */
const crashLines = readFileSync(dataFile('heroku-crash.txt'), 'utf8').trim().split('\n');
const deployText = readFileSync(dataFile('heroku-deploy.txt'), 'utf8');
const H13_ID = '5d3f2a10-6b8c-4e7f-9a01-2b3c4d5e6f70';

describe('h13 drain: frames in, diagnoses out', () => {
  let d: DrainProcess;
  before(async () => {
    d = await startDrainProcess(join(dir, 'main.db'), ['--window', '200ms']);
  });
  after(() => d.proc.kill());

  it('diagnoses the H13s of a logplex batch with their cause and evidence', async () => {
    const r = await postFrames(d.url, 'shop', crashLines, 'FRAME-0001');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), { app: 'shop', lines: crashLines.length, duplicate: false });
    await until(
      async () => (await diagnosesOf(d.url, 'shop')).length >= 3,
      10_000,
      'diagnoses of shop',
    );
    const ds = await diagnosesOf(d.url, 'shop');
    const h13 = ds.find((x) => x.requestId === H13_ID);
    assert.ok(h13 !== undefined, JSON.stringify(ds));
    assert.equal(h13.code, 'H13');
    assert.equal(h13.cause, 'app-crash');
    assert.ok(
      h13.evidence.some((e) => /Error: boom/.test(e.line)),
      'the stack is evidence',
    );
    assert.deepEqual(ds.map((x) => x.code).sort(), ['H10', 'H13', 'H13']);
    const info = await appInfo(d.url, 'shop');
    assert.equal(info?.counters.lines, crashLines.length);
    assert.equal(info?.counters.frames, crashLines.length);
    assert.equal(info?.counters['msg-count-mismatch'], undefined);
    assert.deepEqual(info?.drainTokens, ['d.00000000-1111-4222-8333-444444444444']);
  });

  it('a retried batch (same Logplex-Frame-Id) is acknowledged and not counted twice', async () => {
    const before = await appInfo(d.url, 'shop');
    const r = await postFrames(d.url, 'shop', crashLines, 'FRAME-0001');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), { app: 'shop', lines: 0, duplicate: true });
    const info = await appInfo(d.url, 'shop');
    assert.equal(info?.counters.lines, before?.counters.lines);
    assert.equal(info?.counters['duplicate-batches'], 1);
    assert.equal(info?.diagnoses, 3);
    // Sent twice at once (both in flight, possibly committed in one group): stored once.
    const twice = await Promise.all([
      postFrames(d.url, 'shop', crashLines.slice(0, 3), 'FRAME-0002'),
      postFrames(d.url, 'shop', crashLines.slice(0, 3), 'FRAME-0002'),
    ]);
    assert.deepEqual(twice.map((r) => r.json().duplicate).sort(), [false, true]);
    assert.equal((await appInfo(d.url, 'shop'))?.counters.lines, (before?.counters.lines ?? 0) + 3);
    // The same Frame-Id from another app is that app's own batch.
    const other = await postFrames(d.url, 'shop-staging', crashLines.slice(0, 2), 'FRAME-0001');
    assert.deepEqual(other.json(), { app: 'shop-staging', lines: 2, duplicate: false });
  });

  it('follows a request id to its diagnosis and every raw line that carries it', async () => {
    const r = await send(d.url, { path: `/api/requests/${H13_ID}` });
    assert.equal(r.status, 200);
    const trail = r.json<{
      diagnoses: Array<{ app: string; code: string }>;
      lines: Array<{ line: string }>;
    }>();
    assert.deepEqual(
      trail.diagnoses.map((x) => [x.app, x.code]),
      [['shop', 'H13']],
    );
    assert.ok(trail.lines.some((l) => l.line.includes('heroku[router]: at=error code=H13')));
    const none = await send(d.url, { path: '/api/requests/00000000-0000-4000-8000-000000000000' });
    assert.equal(none.status, 404);
  });

  it('reads plain `heroku logs` text on /ingest/APP, as `curl --data-binary @-` sends it', async () => {
    const r = await send(d.url, {
      path: '/ingest/blog',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: deployText,
    });
    assert.equal(r.status, 200, r.text);
    await until(
      async () => (await diagnosesOf(d.url, 'blog')).length > 0,
      10_000,
      'diagnoses of blog',
    );
    const ds = await diagnosesOf(d.url, 'blog');
    assert.ok(
      ds.some((x) => x.cause === 'deploy-race'),
      JSON.stringify(ds.map((x) => x.cause)),
    );
    // since= filters by the router line's time; a bad since or limit is a 400 that says why.
    assert.equal((await diagnosesOf(d.url, 'blog', '2100-01-01T00:00:00Z')).length, 0);
    const badSince = await send(d.url, { path: '/api/apps/blog/diagnoses?since=yesterday' });
    assert.equal(badSince.status, 400);
    assert.match(badSince.json<{ error: string }>().error, /ISO 8601/);
    assert.equal((await send(d.url, { path: '/api/apps/blog/diagnoses?limit=0' })).status, 400);
    assert.equal((await send(d.url, { path: '/api/apps/nobody/diagnoses' })).status, 404);
  });

  it('counts platform errors from real logplex frames (heroku/logplex#105: an L10)', async () => {
    const body =
      '142 <172>1 2014-11-11T08:24:25+00:00 host heroku logplex - Error L10 (output buffer overflow): 1 messages dropped since 2014-11-07T23:29:45+00:00.93 <45>1 2014-11-11T08:24:24.064853+00:00 host heroku web.1 - State changed from starting to up\n';
    const r = await send(d.url, {
      path: '/drain/legacy',
      headers: { 'content-type': 'application/logplex-1', 'logplex-msg-count': '2' },
      body,
    });
    assert.equal(r.status, 200, r.text);
    const info = await appInfo(d.url, 'legacy');
    assert.deepEqual(info?.platformErrors, { L10: 1 });
    assert.equal(info?.counters.frames, 2);
  });

  it('keeps and counts garbage, lying lengths and invalid UTF-8, and stays up', async () => {
    const garbage = Buffer.concat([
      Buffer.from([0, 1, 2, 0xff, 0xfe, 10]),
      Buffer.from('999999 <190>1 2026-03-02T10:15:05Z host app web.1 - short\n'),
      Buffer.from('5 <190>1 2026-03-02T10:15:05Z host app web.1 - wrong length\n'),
      Buffer.from('not a frame at all\n'),
    ]);
    const r = await send(d.url, {
      path: '/drain/junk',
      headers: { 'content-type': 'application/logplex-1', 'logplex-msg-count': '3' },
      body: garbage,
    });
    assert.equal(r.status, 200, 'a partly bad batch is stored: logplex would drop it on a 4xx');
    const info = await appInfo(d.url, 'junk');
    assert.ok(info !== undefined);
    assert.ok((info.counters['malformed-frame'] ?? 0) >= 1, JSON.stringify(info.counters));
    assert.ok((info.counters['bad-length'] ?? 0) >= 1, JSON.stringify(info.counters));
    assert.ok((info.counters['invalid-utf8'] ?? 0) >= 1, JSON.stringify(info.counters));
    assert.ok((info.counters.lines ?? 0) >= 3, 'nothing dropped');
    assert.ok(info.badInput.length > 0);
    for (const s of info.badInput) assert.doesNotMatch(s.sample, /[\u0000-\u0008]/);
    // Still serving.
    assert.equal((await send(d.url, { path: '/api/apps' })).status, 200);
  });

  it('401 without the credential on every route, whatever the path; Bearer only on /api', async () => {
    for (const path of [
      '/drain/shop',
      '/ingest/shop',
      '/api/apps',
      '/api/apps/shop/diagnoses',
      '/nope',
    ]) {
      const r = await send(d.url, { path, auth: null });
      assert.equal(r.status, 401, path);
      assert.match(String(r.headers['www-authenticate']), /^Basic /);
    }
    const wrong = `Basic ${Buffer.from('h13:wrong').toString('base64')}`;
    assert.equal((await send(d.url, { path: '/api/apps', auth: wrong })).status, 401);
    const wrongUser = `Basic ${Buffer.from(`root:${PASSWORD}`).toString('base64')}`;
    assert.equal((await send(d.url, { path: '/api/apps', auth: wrongUser })).status, 401);
    assert.equal(
      (await send(d.url, { path: '/api/apps', auth: `Bearer ${PASSWORD}` })).status,
      200,
    );
    const bearerIngest = await postFrames(d.url, 'shop', crashLines, 'F-B', {
      authorization: `Bearer ${PASSWORD}`,
    });
    assert.equal(bearerIngest.status, 401);
    assert.equal((await send(d.url, { path: '/nope' })).status, 404);
    assert.equal((await send(d.url, { path: '/api/apps', method: 'DELETE' })).status, 405);
  });

  it('415 on a content type the route does not read, 400 on a bad app name or header, both said clearly', async () => {
    const r = await send(d.url, {
      path: '/drain/shop',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(r.status, 415);
    assert.match(r.json<{ error: string }>().error, /application\/logplex-1/);
    assert.equal((await send(d.url, { path: '/ingest/bad%20name', body: 'x' })).status, 400);
    const badCount = await postFrames(d.url, 'shop', crashLines, 'F-C', {
      'logplex-msg-count': 'ten',
    });
    assert.equal(badCount.status, 400);
    assert.equal((await appInfo(d.url, 'shop'))?.counters['rejected-content-type'], 1);
  });

  it('escapes every logged value: request bytes cannot forge a service log line', async () => {
    await send(d.url, { path: '/x%0Aat=error%20event=forged', auth: null });
    await send(d.url, { path: '/x"\tat=error', auth: null });
    await until(() => /path=/.test(d.proc.stdout()), 5000, 'the 401 log line');
    for (const line of d.proc.stdout().split('\n')) {
      if (line === '' || line.startsWith('h13 drain listening')) continue;
      assert.match(line, /^at=(info|warn|error) /, line);
      assert.doesNotMatch(line, /^at=error event=forged/);
    }
  });
});

describe('h13 drain: limits', () => {
  let d: DrainProcess;
  before(async () => {
    d = await startDrainProcess(join(dir, 'limits.db'), [
      '--max-body',
      '4096',
      '--app-rate',
      '20',
      '--request-timeout',
      '400ms',
      '--headers-timeout',
      '300ms',
    ]);
  });
  after(() => d.proc.kill());

  it('413 on a body over --max-body, by Content-Length or while streaming', async () => {
    const big = Buffer.alloc(5000, 'a');
    const r = await send(d.url, { path: '/ingest/big', body: big });
    assert.equal(r.status, 413);
    assert.match(r.json<{ error: string }>().error, /4096 bytes/);
    const chunked = await send(d.url, {
      path: '/ingest/big',
      headers: { 'transfer-encoding': 'chunked' },
      body: big,
    });
    assert.equal(chunked.status, 413);
    assert.equal((await appInfo(d.url, 'big'))?.counters['rejected-too-large'], 2);
  });

  it("one app's flood gets 429 while another app is still served", async () => {
    const line = (i: number) =>
      `2026-03-02T10:15:05.${String(i).padStart(6, '0')}+00:00 app[web.1]: line ${i}`;
    const flood = Array.from({ length: 40 }, (_, i) => line(i)).join('\n');
    const first = await send(d.url, { path: '/ingest/noisy', body: flood });
    assert.equal(first.status, 200, 'a burst of twice the rate passes');
    const second = await send(d.url, { path: '/ingest/noisy', body: flood });
    assert.equal(second.status, 429);
    assert.ok(Number(second.headers['retry-after']) >= 1);
    const quiet = await send(d.url, { path: '/ingest/quiet', body: line(1) });
    assert.equal(quiet.status, 200);
    assert.equal((await appInfo(d.url, 'noisy'))?.counters['rejected-rate'], 1);
  });

  it('a sender that stalls mid-body is cut off after --request-timeout', async () => {
    const socket = connect(Number(new URL(d.url).port), '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8').on('data', (s: string) => (answer += s));
    socket.write(
      `POST /ingest/slow HTTP/1.1\r\nHost: x\r\nAuthorization: ${BASIC}\r\nContent-Length: 1000\r\n\r\nonly a few bytes`,
    );
    await withTimeout(
      new Promise((resolve) => socket.once('close', resolve)),
      5000,
      'the drain to close a stalled request',
    );
    assert.match(answer, /^HTTP\/1\.1 408/);
    await until(
      async () => (await appInfo(d.url, 'slow'))?.counters['rejected-timeout'] === 1,
      5000,
      'the cut-off request counted',
    );
  });

  it('a request with both Content-Length and Transfer-Encoding (smuggling) gets 400 and never reaches a route', async () => {
    const socket = connect(Number(new URL(d.url).port), '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8').on('data', (s: string) => (answer += s));
    socket.write(
      `POST /ingest/smuggle HTTP/1.1\r\nHost: x\r\nAuthorization: ${BASIC}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    );
    await withTimeout(new Promise((resolve) => socket.once('close', resolve)), 5000, 'the 400');
    assert.match(answer, /^HTTP\/1\.1 400/);
    assert.equal(await appInfo(d.url, 'smuggle'), undefined);
  });

  it('a sender that never finishes its head is cut off after --headers-timeout', async () => {
    const socket = connect(Number(new URL(d.url).port), '127.0.0.1');
    socket.resume();
    socket.write('POST /ingest/slow HTTP/1.1\r\nHost: x\r\n');
    await withTimeout(
      new Promise((resolve) => socket.once('close', resolve)),
      5000,
      'the drain to close a stalled head',
    );
  });
});

describe('h13 drain: connection cap', () => {
  let d: DrainProcess;
  before(async () => {
    d = await startDrainProcess(join(dir, 'conns.db'), ['--max-connections', '2']);
  });
  after(() => d.proc.kill());

  it('past --max-connections, the connection idle longest makes room for a new one', async () => {
    const port = Number(new URL(d.url).port);
    const open = async () => {
      const s = connect(port, '127.0.0.1');
      await withTimeout(new Promise((resolve) => s.once('connect', resolve)), 5000, 'connect');
      return s;
    };
    const idle = [await open(), await open()];
    // Both must be accepted by the server before the third comes: a request on each proves it.
    for (const s of idle) {
      let text = '';
      s.setEncoding('utf8').on('data', (x: string) => (text += x));
      // Answered 200 and kept alive (a 401 would close it).
      s.write(`GET /api/apps HTTP/1.1\r\nHost: x\r\nAuthorization: ${BASIC}\r\n\r\n`);
      await until(() => text.includes('"apps"'), 5000, 'an answer on an accepted connection');
    }
    const oldestClosed = new Promise((resolve) => idle[0]?.once('close', resolve));
    // Idle keep-alive connections hold no request: the oldest is closed, the third is served.
    const third = await send(d.url, { path: '/api/apps' });
    assert.equal(third.status, 200);
    await withTimeout(oldestClosed, 5000, 'the oldest idle connection closed');
    assert.equal(idle[1]?.destroyed, false);
    for (const s of idle) s.destroy();
    // Connections with a request in progress are never closed for a newcomer:
    // test/drain/attack.test.ts, "slow clients against --max-connections".
  });
});

describe('h13 drain: late and out-of-order frames', () => {
  let d: DrainProcess;
  before(async () => {
    d = await startDrainProcess(join(dir, 'late.db'), ['--window', '3s']);
  });
  after(() => d.proc.kill());

  it('evidence logged before the H13 but delivered in a later batch still explains it', async () => {
    const id = '7e8f9a0b-1c2d-4e3f-8a5b-6c7d8e9f0a1b';
    const router = `2026-03-02T11:00:05.010002+00:00 heroku[router]: at=error code=H13 desc="Connection closed without response" method=POST path="/pay" host=a.herokuapp.com request_id=${id} fwd="203.0.113.9" dyno=web.1 connect=1ms service=40ms status=503 bytes=0 protocol=https`;
    const first = await postFrames(d.url, 'late', [router], 'L1');
    assert.equal(first.status, 200);
    // The dyno's lines come through logplex in another batch, after the router's.
    const second = await postFrames(
      d.url,
      'late',
      [
        '2026-03-02T11:00:05.004330+00:00 app[web.1]: Error: card declined',
        '2026-03-02T11:00:05.004400+00:00 app[web.1]:     at pay (/app/server.js:40:11)',
        '2026-03-02T11:00:05.090000+00:00 heroku[web.1]: Process exited with status 1',
      ],
      'L2',
    );
    assert.equal(second.status, 200);
    await until(async () => (await diagnosesOf(d.url, 'late')).length > 0, 10_000, 'the late H13');
    const [diagnosis] = await diagnosesOf(d.url, 'late');
    assert.equal(diagnosis?.requestId, id);
    assert.equal(diagnosis?.cause, 'app-crash');
    assert.ok(diagnosis?.evidence.some((e) => /card declined/.test(e.line)));
  });
});
