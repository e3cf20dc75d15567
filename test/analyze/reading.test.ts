import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRouterMessage } from '../../src/core/router-line.js';
import { analyzeText } from './analyze-helpers.js';

const H13 =
  'at=error code=H13 desc="Connection closed without response" method=GET path="/x" host=a.herokuapp.com request_id=aaaaaaaa-1111-4222-8333-444444444444 fwd="1.2.3.4" dyno=web.1 connect=0ms service=12ms status=503 bytes=0';

describe('lines pasted without the usual head', () => {
  it('a router message alone is a router line, never the guard line', () => {
    const { result, diagnoses } = analyzeText(`${H13}\n`);
    assert.equal(result.stats.unparsed, 0);
    assert.equal(diagnoses.length, 1);
    assert.equal(diagnoses[0]?.code, 'H13');
    assert.equal(diagnoses[0]?.guardOnly, false);
    assert.notEqual(diagnoses[0]?.cause, 'guard-reported');
    assert.notEqual(diagnoses[0]?.confidence, 'high');
    assert.equal(diagnoses[0]?.dyno, 'web.1');
  });

  it('`myapp heroku/router at=...` and `heroku[router]: at=...` without a timestamp', () => {
    const { result, diagnoses } = analyzeText(
      `myapp heroku/router ${H13}\nheroku[router]: ${H13.replace('H13', 'H18')}\n`,
    );
    assert.equal(result.stats.unparsed, 0);
    assert.deepEqual(
      diagnoses.map((d) => d.code),
      ['H13', 'H18'],
    );
    assert.equal(result.stats.formats.bare, 2);
  });

  it('a log service timestamp in front of a syslog frame without an octet count', () => {
    const { result, diagnoses } = analyzeText(
      `23 Mar 2020 10:31:55.592394 <158>1 2020-03-23T17:31:55.266210+00:00 heroku router - - ${H13}\n`,
    );
    assert.equal(result.stats.unparsed, 0);
    assert.equal(result.stats.formats.syslog, 1);
    assert.equal(diagnoses[0]?.micros, Date.parse('2020-03-23T17:31:55.266Z') * 1000 + 210);
  });

  it('a UTF-8 byte-order mark before the first line loses nothing', () => {
    const { result, diagnoses } = analyzeText(
      `\ufeff2026-03-02T10:15:05.010002+00:00 heroku[router]: ${H13}\n`,
    );
    assert.equal(result.stats.unparsed, 0);
    assert.equal(diagnoses.length, 1);
  });

  it('Fir dyno names', () => {
    const { diagnoses } = analyzeText(
      [
        '2026-03-02T10:15:05.000000+00:00 app[web-58f4b5c5d-abcde]: Error: boom',
        '2026-03-02T10:15:05.000100+00:00 app[web-58f4b5c5d-abcde]:     at handler (/app/server.js:3:9)',
        `2026-03-02T10:15:05.010002+00:00 heroku[router]: ${H13.replace('dyno=web.1', 'dyno=web-58f4b5c5d-abcde')}`,
        '2026-03-02T10:15:05.020000+00:00 heroku[web-58f4b5c5d-abcde]: Process exited with status 1',
        '',
      ].join('\n'),
    );
    assert.equal(diagnoses[0]?.cause, 'app-crash');
    assert.equal(diagnoses[0]?.dyno, 'web-58f4b5c5d-abcde');
  });
});

describe('router lines cut or wrapped by the paste', () => {
  it('a line cut mid-field is kept and marked', () => {
    const { result, diagnoses } = analyzeText(
      '2026-03-02T10:15:09.010002+00:00 heroku[router]: at=error code=H13 desc="Connection closed without\n',
    );
    assert.equal(diagnoses.length, 1);
    assert.equal(diagnoses[0]?.code, 'H13');
    assert.equal(diagnoses[0]?.cut, true);
    assert.equal(result.stats.cutLines, 1);
    // Nothing is known of the request: no cause is read from a method or path it lost.
    assert.notEqual(diagnoses[0]?.cause, 'bad-client');
  });

  it('a line wrapped one key=value per line, or mid-value, is joined', () => {
    const { result, diagnoses } = analyzeText(
      [
        '2026-03-02T10:15:10.010002+00:00 heroku[router]: at=error code=H13 desc="Connection closed without',
        'response" method=GET',
        '  path="/wrapped"',
        '  dyno=web.2 connect=0ms service=5ms status=503 bytes=0',
        '2026-03-02T10:15:11.010002+00:00 app[web.2]: hello',
        '',
      ].join('\n'),
    );
    assert.equal(result.stats.unparsed, 0);
    assert.equal(result.stats.joinedLines, 3);
    assert.equal(diagnoses.length, 1);
    assert.equal(diagnoses[0]?.path, '/wrapped');
    assert.equal(diagnoses[0]?.dyno, 'web.2');
    assert.equal(diagnoses[0]?.cut, false);
    assert.equal(result.stats.parsed + result.stats.unparsed, result.stats.records);
  });

  it('a line hard-wrapped at 80 columns, cut inside words, is joined as it was', () => {
    const full =
      '2026-03-02T10:15:10.010002+00:00 heroku[router]: at=error code=H12 desc="Request timeout" method=GET path="/socket.io/?EIO=3&transport=polling" host=a.herokuapp.com request_id=e63cefc2-7179-41d3-844f-c0548257cf28 fwd="1.2.3.4" dyno=web.1 connect=1ms service=30001ms status=503 bytes=0';
    const pieces: string[] = [];
    for (let i = 0; i < full.length; i += 80) pieces.push(full.slice(i, i + 80));
    const { result, diagnoses } = analyzeText(`${pieces.join('\n')}\n`);
    assert.equal(result.stats.unparsed, 0);
    assert.equal(diagnoses[0]?.requestId, 'e63cefc2-7179-41d3-844f-c0548257cf28');
    assert.equal(diagnoses[0]?.serviceMs, 30001);
    assert.equal(diagnoses[0]?.cut, false);
  });
});

describe('Papertrail', () => {
  it("the viewer's two spaces after the colon hide no platform event", () => {
    const { diagnoses } = analyzeText(
      [
        'Mar  2 10:15:04 myapp app/web.1:  Error: boom',
        `Mar  2 10:15:05 myapp heroku/router:  ${H13}`,
        'Mar  2 10:15:05 myapp heroku/web.1:  Process exited with status 1',
        'Mar  2 10:15:05 myapp heroku/web.1:  State changed from up to crashed',
        '',
      ].join('\n'),
    );
    assert.equal(diagnoses[0]?.cause, 'app-crash');
  });

  it('the year comes from the rest of the log, not the clock', () => {
    const { diagnoses } = analyzeText(
      [
        '2019-12-31T23:59:58.000000+00:00 app[web.1]: a line with its year',
        `Jan  1 00:00:01 myapp heroku/router: ${H13}`,
        '',
      ].join('\n'),
    );
    assert.equal(
      new Date((diagnoses[0]?.micros ?? 0) / 1000).toISOString(),
      '2020-01-01T00:00:01.000Z',
    );
  });
});

describe('the one router-line reader', () => {
  it('reads malformed numbers as unknown, not as a wrong number', () => {
    const r = parseRouterMessage(
      'at=error code=H13 desc="x" method=GET path="/" connect=1e400ms service=12ms status=503abc bytes=-5',
    );
    assert.equal(r?.connectMs, null);
    assert.equal(r?.serviceMs, 12);
    assert.equal(r?.status, null);
    assert.equal(r?.bytes, null);
  });
});

describe('error rates', () => {
  it('errors over requests per route (ids folded) and over time', async () => {
    const { buildReport } = await import('../../src/analyze/report.js');
    const lines: string[] = [];
    for (let i = 0; i < 40; i++) {
      const code = i % 10 === 0 ? 'at=error code=H13 desc="x"' : 'at=info';
      lines.push(
        `2026-03-02T10:15:${String(10 + (i % 20)).padStart(2, '0')}.000000+00:00 heroku[router]: ${code} method=GET path="/orders/${i}?x=1" host=a request_id=r${i} fwd="1" dyno=web.1 connect=0ms service=5ms status=${code === 'at=info' ? 200 : 503} bytes=0 protocol=https`,
      );
      lines.push(
        `2026-03-02T10:15:${String(10 + (i % 20)).padStart(2, '0')}.000000+00:00 heroku[router]: at=info method=GET path="/health" host=a request_id=h${i} fwd="1" dyno=web.1 connect=0ms service=1ms status=200 bytes=2 protocol=https`,
      );
    }
    const { result } = analyzeText(`${lines.join('\n')}\n`);
    const rates = buildReport(result).rates;
    assert.equal(rates.requests, 80);
    assert.equal(rates.errors, 4);
    assert.equal(rates.rate, 0.05);
    assert.deepEqual(rates.byRoute, [{ route: '/orders/:id', requests: 40, errors: 4, rate: 0.1 }]);
    assert.ok(rates.overTime.some((r) => r !== null && r > 0));
    assert.ok((rates.peak?.rate ?? 0) >= 0.05);
  });
});
