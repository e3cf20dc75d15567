import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAccessLine } from '../../src/analyze/access-line.js';
import { analyzeText } from './analyze-helpers.js';

const T = '2026-03-02T10:15';
const router = (sec: string, code: string, path: string, extra = '', dyno = 'web.1') =>
  `${T}:${sec}+00:00 heroku[router]: at=error code=${code} desc="x" method=POST path="${path}" host=a.herokuapp.com request_id=5d3f2a10-6b8c-4e7f-9a01-${code}00000000 fwd="1.2.3.4" dyno=${dyno} connect=1ms ${extra} protocol=https`;
const log = (...lines: string[]) => `${lines.join('\n')}\n`;
const only = (text: string, code: string) => {
  const found = analyzeText(text).diagnoses.filter((d) => d.code === code);
  assert.equal(found.length, 1, `one ${code}: ${found.map((d) => d.reason).join(' | ')}`);
  return found[0] as (typeof found)[number];
};

describe('access-log lines', () => {
  it('reads the usual forms: method, path, status, bytes, duration, own time', () => {
    const clf = parseAccessLine(
      '10.1.2.3 - - [29/Mar/2020:19:37:30 +0000] "POST /api/upload?x=1 HTTP/1.1" 503 299 "-" "curl/8"',
    );
    assert.deepEqual(
      [clf?.method, clf?.path, clf?.status, clf?.bytes, clf?.micros],
      ['POST', '/api/upload?x=1', 503, 299, Date.parse('2020-03-29T19:37:30Z') * 1000],
    );
    // A paste that lost the head of the line (the corpus's group 39).
    const cut = parseAccessLine(' "POST /api/upload HTTP/1.1" 503 299 "-" "PostmanRuntime/7.24.0');
    assert.deepEqual([cut?.status, cut?.bytes, Number.isNaN(cut?.micros)], [503, 299, true]);
    const uvicorn = parseAccessLine(
      'INFO:     10.1.2.3:5123 - "GET /items HTTP/1.1" 500 Internal Server Error',
    );
    assert.deepEqual(
      [uvicorn?.method, uvicorn?.path, uvicorn?.status, uvicorn?.bytes],
      ['GET', '/items', 500, null],
    );
    const dev = parseAccessLine('POST /orders 502 31002.114 ms - 56');
    assert.deepEqual([dev?.status, dev?.durationMs, dev?.bytes], [502, 31002.114, 56]);
    const tiny = parseAccessLine('GET /a 200 1234 - 5.120 ms');
    assert.deepEqual([tiny?.status, tiny?.bytes, tiny?.durationMs], [200, 1234, 5.12]);
    const short = parseAccessLine('::ffff:10.1.2.3 - GET /a HTTP/1.1 200 12 - 3.001 ms');
    assert.deepEqual([short?.method, short?.path, short?.status], ['GET', '/a', 200]);
    const none = parseAccessLine('GET /slow - - ms - -');
    assert.deepEqual([none?.status, none?.durationMs, none?.bytes], [null, null, null]);
    const rails = parseAccessLine(
      'Started GET "/admin/advice" for 10.1.2.3 at 2012-05-02 08:31:26 +0000',
    );
    assert.deepEqual([rails?.method, rails?.path, rails?.started], ['GET', '/admin/advice', true]);
    const lograge = parseAccessLine(
      'method=PUT path=/users/7 format=json controller=UsersController action=update status=500 duration=12.34',
    );
    assert.deepEqual([lograge?.method, lograge?.status, lograge?.durationMs], ['PUT', 500, 12.34]);
    const pino = parseAccessLine(
      '{"level":30,"req":{"id":1,"method":"DELETE","url":"/x/1"},"res":{"statusCode":504},"responseTime":30012,"msg":"request completed"}',
    );
    assert.deepEqual(
      [pino?.method, pino?.path, pino?.status, pino?.durationMs],
      ['DELETE', '/x/1', 504, 30012],
    );
  });

  it('reads nothing in lines that only mention a method or a path', () => {
    for (const line of [
      'GET request to /orders failed',
      'Error: ENOENT: no such file or directory, open /app/x.json',
      'POST /orders took long',
      'at=info method=GET path=/x',
    ])
      assert.equal(parseAccessLine(line), null, line);
  });

  it('an H18 whose dyno logged a 503 for the same method and path: the app answered and closed', () => {
    const d = only(
      log(
        `${T}:04.900000+00:00 app[web.1]: 10.1.2.3 - - [02/Mar/2026:10:15:04 +0000] "POST /api/upload HTTP/1.1" 503 299 "-" "curl/8"`,
        router('05.000000', 'H18', '/api/upload', 'service=48354ms status=503 bytes=473'),
      ),
      'H18',
    );
    assert.equal(d.cause, 'partial-response');
    assert.equal(d.confidence, 'high');
    assert.ok(d.evidence.some((e) => e.kind === 'access'));
  });

  it('another path, another method or another dyno is not the request', () => {
    for (const line of [
      `${T}:04.900000+00:00 app[web.1]: 10.1.2.3 - - [02/Mar/2026:10:15:04 +0000] "POST /api/other HTTP/1.1" 503 299 "-" "curl/8"`,
      `${T}:04.900000+00:00 app[web.1]: 10.1.2.3 - - [02/Mar/2026:10:15:04 +0000] "GET /api/upload HTTP/1.1" 503 299 "-" "curl/8"`,
      `${T}:04.900000+00:00 app[web.2]: 10.1.2.3 - - [02/Mar/2026:10:15:04 +0000] "POST /api/upload HTTP/1.1" 503 299 "-" "curl/8"`,
    ]) {
      const d = only(
        log(line, router('05.000000', 'H18', '/api/upload', 'service=300ms status=503 bytes=473')),
        'H18',
      );
      assert.equal(d.cause, 'unknown', line);
    }
  });

  it('a pasted access line alone: matched by method and path, and by its own time when it has one', () => {
    const pasted = (time: string) =>
      `10.1.2.3 - - [${time}] "POST /api/upload HTTP/1.1" 503 299 "-" "curl/8"`;
    const untimed = only(
      log(
        ' "POST /api/upload HTTP/1.1" 503 299 "-" "curl/8',
        router('05.000000', 'H18', '/api/upload', 'service=48354ms status=503 bytes=473'),
      ),
      'H18',
    );
    assert.deepEqual([untimed.cause, untimed.confidence], ['partial-response', 'medium']);
    const inTime = only(
      log(
        pasted('02/Mar/2026:10:15:04 +0000'),
        router('05.000000', 'H18', '/api/upload', 'service=48354ms status=503 bytes=473'),
      ),
      'H18',
    );
    assert.deepEqual([inTime.cause, inTime.confidence], ['partial-response', 'high']);
    const anHourOff = only(
      log(
        pasted('02/Mar/2026:09:15:04 +0000'),
        router('05.000000', 'H18', '/api/upload', 'service=300ms status=503 bytes=473'),
      ),
      'H18',
    );
    assert.equal(anHourOff.cause, 'unknown');
  });

  it('an H13 the access log shows without a status: closed without answering; with a 500: an error path', () => {
    const silent = only(
      log(
        router('05.000000', 'H13', '/orders', 'service=20ms status=503 bytes=0'),
        `${T}:05.010000+00:00 app[web.1]: POST /orders - - ms - -`,
      ),
      'H13',
    );
    assert.equal(silent.cause, 'silent-close');
    const failed = only(
      log(
        router('05.000000', 'H13', '/orders', 'service=20ms status=503 bytes=0'),
        `${T}:05.010000+00:00 app[web.1]: POST /orders 500 19.002 ms - 21`,
      ),
      'H13',
    );
    assert.equal(failed.cause, 'app-error');
  });

  it('a crash still outranks the access line', () => {
    const d = only(
      log(
        `${T}:04.990000+00:00 app[web.1]: TypeError: x is not a function`,
        `${T}:04.991000+00:00 app[web.1]:     at handler (/app/server.js:10:3)`,
        `${T}:04.995000+00:00 app[web.1]: POST /orders 500 19.002 ms - 21`,
        router('05.000000', 'H13', '/orders', 'service=20ms status=503 bytes=0'),
        `${T}:05.100000+00:00 heroku[web.1]: Process exited with status 1`,
      ),
      'H13',
    );
    assert.equal(d.cause, 'app-crash');
  });
});

describe('H12s repeated on one route', () => {
  const h12 = (sec: string, path: string) =>
    `${T}:${sec}+00:00 heroku[router]: at=error code=H12 desc="Request timeout" method=GET path="${path}" host=a request_id=${sec.replace('.', '')}-0000-4000-8000-000000000000 fwd="1" dyno=web.1 connect=0ms service=30000ms status=503 bytes=0`;
  it('three on the same route, none elsewhere: the route is slow', () => {
    const ds = analyzeText(
      log(
        h12('01.000000', '/report?x=1'),
        h12('03.000000', '/report'),
        h12('59.000000', '/report'),
      ),
    ).diagnoses;
    assert.deepEqual(
      ds.map((d) => `${d.cause} ${d.confidence}`),
      ['slow-request medium', 'slow-request medium', 'slow-request medium'],
    );
  });
  it('spread over routes (a busy process) or only two: no cause named from them', () => {
    const spread = analyzeText(
      log(
        h12('01.000000', '/a'),
        h12('02.000000', '/a'),
        h12('03.000000', '/a'),
        h12('04.000000', '/b'),
        h12('05.000000', '/c'),
        h12('06.000000', '/d'),
        h12('07.000000', '/e'),
      ),
    ).diagnoses;
    assert.ok(
      spread.every((d) => d.cause === 'unknown'),
      spread.map((d) => d.cause).join(),
    );
    const two = analyzeText(log(h12('01.000000', '/a'), h12('02.000000', '/a'))).diagnoses;
    assert.ok(two.every((d) => d.cause === 'unknown'));
  });
});

describe('the cheap test before the patterns', () => {
  it('passes every access line whose path starts with /, at any offset', async () => {
    const { mayBeAccessAt } = await import('../../src/analyze/access-line.js');
    for (const line of [
      '10.1.2.3 - - [29/Mar/2020:19:37:30 +0000] "POST /api/upload HTTP/1.1" 503 299 "-" "curl/8"',
      'POST /orders 502 31002.114 ms - 56',
      'Started GET "/admin/advice" for 10.1.2.3 at 2012-05-02 08:31:26 +0000',
      'method=PUT path=/users/7 format=json status=500 duration=12.34',
      '{"req":{"method":"DELETE","url":"/x/1"},"res":{"statusCode":504}}',
    ]) {
      const head = '2026-03-02T10:15:04.900000+00:00 app[web.1]: ';
      assert.ok(parseAccessLine(line) !== null, line);
      assert.ok(mayBeAccessAt(head + line, head.length), line);
    }
    assert.equal(mayBeAccessAt('x app[web.1]: info: request completed user=1', 14), false);
    assert.equal(mayBeAccessAt('x app[web.1]:     at handler (/app/server.js:12:11)', 14), false);
  });
});
