import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LOGPLEX_FORMAT, TEXT_FORMAT } from '../../src/drain/ingest-formats.js';
import { type FrameProblem, splitOctetFrames } from '../../src/drain/octet-frames.js';
import { herokuLines, parseFrame } from '../../src/drain/syslog-line.js';

function split(body: Buffer | string) {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  const frames: string[] = [];
  const problems: Array<[FrameProblem, string]> = [];
  splitOctetFrames(buf, {
    frame: (b, s, e) => frames.push(b.toString('utf8', s, e)),
    problem: (k, b, s, e) => problems.push([k, b.toString('utf8', s, e)]),
  });
  return { frames, problems };
}

const frame = (text: string) => `${Buffer.byteLength(text)} ${text}`;

describe('octet-counted frames (RFC 6587)', () => {
  it("reads logplex's documented example body: ten frames of 70 bytes, each counting its newline", () => {
    // heroku/logplex doc/README.http_drains.md, "Example Post".
    const one = '70 <174>1 2012-07-22T00:06:26+00:00 host erlang console - Hi from erlang\n';
    const { frames, problems } = split(one.repeat(10));
    assert.equal(frames.length, 10);
    assert.deepEqual(problems, []);
    assert.equal(
      frames[0],
      '<174>1 2012-07-22T00:06:26+00:00 host erlang console - Hi from erlang',
    );
  });

  it('reads frames run together with no separator, as logplex sends them (heroku/logplex#105)', () => {
    // Quoted from https://github.com/heroku/logplex/issues/105 (bergold, 2014-11-11): the
    // reporter took it for a missing newline; it is octet framing, LEN counting the newline.
    const body =
      '142 <172>1 2014-11-11T08:24:25+00:00 host heroku logplex - Error L10 (output buffer overflow): 1 messages dropped since 2014-11-07T23:29:45+00:00.93 <45>1 2014-11-11T08:24:24.064853+00:00 host heroku web.1 - State changed from starting to up\n';
    const { frames, problems } = split(body);
    assert.deepEqual(problems, []);
    assert.equal(frames.length, 2);
    assert.match(frames[0] as string, /Error L10 .*00:00\.$/);
    assert.match(frames[1] as string, /State changed from starting to up$/);
  });

  it('counts bytes, not characters: multi-byte UTF-8 frames split right', () => {
    const a = '<190>1 2026-03-02T10:15:05+00:00 host app web.1 - héllo wörld ✓';
    const b = '<190>1 2026-03-02T10:15:06+00:00 host app web.1 - 日本語';
    const { frames, problems } = split(frame(a) + frame(b));
    assert.deepEqual(frames, [a, b]);
    assert.deepEqual(problems, []);
  });

  it('a length that runs past the body is reported and the bytes kept as a frame', () => {
    const a = '<190>1 2026-03-02T10:15:05+00:00 host app web.1 - cut short';
    const { frames, problems } = split(`500 ${a}`);
    assert.deepEqual(frames, [a]);
    assert.deepEqual(
      problems.map((p) => p[0]),
      ['bad-length'],
    );
  });

  it('a length that does not land on the next frame is cut at the next frame line', () => {
    const a = '<190>1 2026-03-02T10:15:05+00:00 host app web.1 - first';
    const b = '<190>1 2026-03-02T10:15:06+00:00 host app web.1 - second';
    const { frames, problems } = split(`10 ${a}\n${frame(b)}`);
    assert.deepEqual(frames, [a, b]);
    assert.deepEqual(
      problems.map((p) => p[0]),
      ['bad-length'],
    );
  });

  it('garbage where a length should be is one malformed chunk, and framing resumes after it', () => {
    const b = '<190>1 2026-03-02T10:15:06+00:00 host app web.1 - after garbage';
    const { frames, problems } = split(`\u0000\u0001binary junk\xff\n${frame(b)}`);
    assert.deepEqual(frames, [b]);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.[0], 'malformed-frame');
  });

  it('never throws on random bytes, and reports only ranges inside the body', () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let round = 0; round < 300; round++) {
      const len = rand() % 400;
      const buf = Buffer.alloc(len);
      for (let i = 0; i < len; i++) buf[i] = rand() % 4 === 0 ? 0x30 + (rand() % 10) : rand() % 256;
      const inside = (_b: Buffer, s: number, e: number) =>
        assert.ok(s >= 0 && s <= e && e <= len, `${s}..${e} of ${len}`);
      splitOctetFrames(buf, { frame: inside, problem: (_k, b, s, e) => inside(b, s, e) });
    }
  });
});

describe('a frame as a `heroku logs` line', () => {
  it('reads the slots logplex fills, wherever the drain token sits', () => {
    const variants = [
      '<158>1 2026-03-02T10:15:05.010002+00:00 host heroku router - at=error code=H13',
      '<158>1 2026-03-02T10:15:05.010002+00:00 d.5f3e0c8a-1111-4222-8333-444455556666 heroku router - at=error code=H13',
      '<158>1 2026-03-02T10:15:05.010002+00:00 heroku router - at=error code=H13',
    ];
    for (const v of variants) {
      const r = parseFrame(v);
      assert.ok(r !== null, v);
      assert.deepEqual(herokuLines(r), [
        '2026-03-02T10:15:05.010002+00:00 heroku[router]: at=error code=H13',
      ]);
    }
  });

  it('refuses what is not a frame, and gives one line per line of a multi-line message', () => {
    assert.equal(parseFrame('hello world'), null);
    assert.equal(parseFrame('<158>1 not-a-time host heroku router - x'), null);
    assert.equal(parseFrame('<999>1 2026-03-02T10:15:05Z host heroku router - x'), null);
    const r = parseFrame(
      '<190>1 2026-03-02T10:15:05Z host app web.1 - Error: boom\n    at x (a.js:1:1)\n',
    );
    assert.ok(r !== null);
    assert.deepEqual(herokuLines(r), [
      '2026-03-02T10:15:05.000000+00:00 app[web.1]: Error: boom',
      '2026-03-02T10:15:05.000000+00:00 app[web.1]:     at x (a.js:1:1)',
    ]);
  });
});

describe('ingest formats', () => {
  it('logplex: counts a Msg-Count that disagrees, invalid UTF-8, control bytes and cut lines, and keeps every line', () => {
    const good = '<190>1 2026-03-02T10:15:05Z host app web.1 - ok';
    const bad = Buffer.concat([
      Buffer.from('60 '),
      Buffer.from('<190>1 2026-03-02T10:15:05Z host app web.1 - \xff\xfe bytes\u0000', 'latin1'),
    ]);
    // The second frame's LEN must be its byte length.
    const badFrame = bad.subarray(3);
    const body = Buffer.concat([
      Buffer.from(frame(good)),
      Buffer.from(`${badFrame.length} `),
      badFrame,
      Buffer.from(frame(`<190>1 2026-03-02T10:15:05Z host app web.1 - ${'x'.repeat(400)}`)),
    ]);
    const out = LOGPLEX_FORMAT.parse(body, { msgCount: 5 }, 256);
    assert.equal(out.lines.length, 3);
    assert.equal(out.counters.frames, 3);
    assert.equal(out.counters['msg-count-mismatch'], 1);
    assert.equal(out.counters['invalid-utf8'], 1);
    assert.equal(out.counters['binary-line'], 1);
    assert.equal(out.counters['oversized-line'], 1);
    for (const s of out.samples)
      assert.doesNotMatch(s.sample, /[\u0000-\u001f]/, 'samples are escaped');
  });

  it('text: one line per newline, CRLF too; heroku lines give their time and platform errors', () => {
    const body = Buffer.from(
      '2026-03-02T10:15:05.010002+00:00 heroku[router]: at=error code=H13 request_id=5d3f2a10-6b8c-4e7f-9a01-2b3c4d5e6f70 status=503\r\n' +
        '2026-03-02T10:15:06+00:00 heroku[web.1]: Error R14 (Memory quota exceeded)\n\n' +
        'Mar 02 10:15:07 myapp heroku/web.2: Error R15 (Memory quota vastly exceeded)\n',
    );
    const out = TEXT_FORMAT.parse(body, { msgCount: null }, 1024);
    assert.equal(out.lines.length, 3);
    assert.equal(out.lines[0]?.router, true);
    assert.equal(out.lines[0]?.micros, Date.UTC(2026, 2, 2, 10, 15, 5) * 1000 + 10_002);
    assert.deepEqual(
      out.platformErrors.map((e) => [e.code, e.process]),
      [
        ['R14', 'web.1'],
        ['R15', 'web.2'],
      ],
    );
  });
});
