import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeText } from './analyze-helpers.js';

const T = '2026-03-02T10:15';
const router = (sec: string, code: string, extra = 'service=40ms', dyno = 'web.1') =>
  `${T}:${sec}+00:00 heroku[router]: at=error code=${code} desc="x" method=GET path="/orders/7" host=a.herokuapp.com request_id=5d3f2a10-6b8c-4e7f-9a01-${code}00000000 fwd="1.2.3.4" dyno=${dyno} connect=1ms ${extra} status=503 bytes=0 protocol=https`;
const log = (...lines: string[]) => `${lines.join('\n')}\n`;
const causeOf = (text: string, code = 'H13') =>
  analyzeText(text).diagnoses.find((d) => d.code === code);

describe('evidence the rules use', () => {
  it('a restart is not a crash: shutdown line and exit 143 are a restart race', () => {
    const d = causeOf(
      log(
        `${T}:05.000000+00:00 app[web.1]: [4] - Gracefully shutting down workers...`,
        router('05.010000', 'H13'),
        `${T}:05.050000+00:00 heroku[web.1]: Process exited with status 143`,
        `${T}:05.060000+00:00 heroku[web.1]: State changed from up to crashed`,
      ),
    );
    assert.equal(d?.cause, 'restart-race');
  });

  it('an app draining on SIGTERM, started through npm that exits at once: main-process-exit', () => {
    const d = causeOf(
      log(
        `${T}:00.000000+00:00 heroku[web.1]: Starting process with command \`npm start\``,
        `${T}:05.000000+00:00 heroku[web.1]: Stopping all processes with SIGTERM`,
        `${T}:05.010000+00:00 app[web.1]: SIGTERM received, draining`,
        router('05.100000', 'H13'),
        `${T}:05.120000+00:00 app[web.1]: npm ERR! signal SIGTERM`,
        `${T}:05.200000+00:00 heroku[web.1]: Process exited with status 143`,
      ),
    );
    assert.equal(d?.cause, 'main-process-exit');
    assert.equal(d?.confidence, 'high');
    assert.ok(d?.evidence.some((e) => e.kind === 'start'));
    assert.ok(d?.evidence.some((e) => e.kind === 'shutdown'));
  });

  it('the same without a shutdown of the app: the shutdown race, with npm named too', () => {
    // An app that logs no shutdown may have no SIGTERM handler: it ends on the signal by
    // itself, launcher or not (run-npm-start.test.ts: the same H13 under `web: node app.js`).
    const d = causeOf(
      log(
        `${T}:00.000000+00:00 heroku[web.1]: Starting process with command \`npm start\``,
        `${T}:05.000000+00:00 heroku[web.1]: Stopping all processes with SIGTERM`,
        router('05.100000', 'H13'),
        `${T}:05.120000+00:00 app[web.1]: npm ERR! signal SIGTERM`,
        `${T}:05.200000+00:00 heroku[web.1]: Process exited with status 143`,
      ),
    );
    assert.deepEqual([d?.cause, d?.confidence], ['restart-race', 'high']);
    assert.match(
      d?.reason ?? '',
      /no shutdown of its own.*npm ERR! signal SIGTERM.*start the app directly/,
    );
    assert.ok(d?.evidence.some((e) => e.kind === 'start'));
  });

  it('the same restart with `node server.js` is a restart race', () => {
    const d = causeOf(
      log(
        `${T}:00.000000+00:00 heroku[web.1]: Starting process with command \`node server.js\``,
        `${T}:05.000000+00:00 heroku[web.1]: Stopping all processes with SIGTERM`,
        router('05.100000', 'H13'),
        `${T}:05.200000+00:00 heroku[web.1]: Process exited with status 143`,
      ),
    );
    assert.equal(d?.cause, 'restart-race');
  });

  it('R14, R15, SIGKILL before a cut line: out of memory', () => {
    const d = causeOf(
      log(
        `${T}:01.000000+00:00 heroku[web.1]: Error R14 (Memory quota exceeded)`,
        `${T}:04.000000+00:00 heroku[web.1]: Error R15 (Memory quota vastly exceeded)`,
        `${T}:04.010000+00:00 heroku[web.1]: Stopping process with SIGKILL`,
        `${T}:04.050000+00:00 heroku[router]: at=error code=H13 desc="Connecti`,
      ),
    );
    assert.equal(d?.cause, 'out-of-memory');
    assert.equal(d?.cut, true);
    assert.doesNotMatch(d?.reason ?? '', /undefined/);
  });

  it("exit 134 after V8's GC dump: out of memory", () => {
    const d = causeOf(
      log(
        `${T}:04.000000+00:00 app[web.1]: <--- Last few GCs --->`,
        `${T}:04.000100+00:00 app[web.1]: [22:0x4a0]    61234 ms: Mark-sweep 502.1 (521.3) -> 501.9 (521.3) MB`,
        `${T}:04.000200+00:00 heroku[web.1]: Error R14 (Memory quota exceeded)`,
        router('05.000000', 'H13'),
        `${T}:05.100000+00:00 heroku[web.1]: Process exited with status 134`,
      ),
    );
    assert.equal(d?.cause, 'out-of-memory');
  });

  it('a worker killed by signal 9 without memory evidence: worker-died', () => {
    const d = causeOf(
      log(
        `${T}:05.000000+00:00 app[web.1]: Worker 12 terminated due to signal 9`,
        router('05.010000', 'H13'),
      ),
    );
    assert.equal(d?.cause, 'worker-died');
  });

  it('an error just after the router line, no exit: app-error, and no reason denies it', () => {
    const d = causeOf(
      log(
        router('05.000000', 'H13'),
        `${T}:05.300000+00:00 app[web.1]: TypeError: Cannot read properties of undefined (reading 'id')`,
      ),
    );
    assert.equal(d?.cause, 'app-error');
  });

  it('H12: an error when the request arrived is the handler that never answered', () => {
    const d = causeOf(
      log(
        `${T}:00.000000+00:00 app[web.1]: Error: ECONNRESET while reading the session`,
        router('30.000000', 'H12', 'service=30000ms'),
      ),
      'H12',
    );
    assert.equal(d?.cause, 'handler-never-answered');
  });

  it('H12: a database that failed at boot while the process stayed up', () => {
    const d = causeOf(
      log(
        `${T}:00.000000+00:00 app[web.1]: MongooseServerSelectionError: connect ECONNREFUSED 127.0.0.1:27017`,
        `${T}:00.100000+00:00 app[web.1]: listening on 3000`,
        `2026-03-02T10:16:40.000000+00:00 heroku[router]: at=error code=H12 desc="Request timeout" method=GET path="/" host=a request_id=aaaaaaaa-1111-4222-8333-444444444444 fwd="1" dyno=web.1 connect=0ms service=30000ms status=503 bytes=0`,
      ),
      'H12',
    );
    assert.equal(d?.cause, 'handler-never-answered');
    assert.match(d?.reason ?? '', /connection failed/);
  });

  it('H12 with nothing else: unknown, never high', () => {
    const d = causeOf(log(router('30.000000', 'H12', 'service=30000ms')), 'H12');
    assert.equal(d?.cause, 'unknown');
    assert.equal(d?.confidence, 'low');
  });

  it('H10 takes its evidence from the next boot (an R10 after it)', () => {
    const d = causeOf(
      log(
        `${T}:00.000000+00:00 heroku[router]: at=error code=H10 desc="App crashed" method=GET path="/" host=a request_id=aaaaaaaa-1111-4222-8333-444444444444 fwd="1" dyno= connect= service= status=503 bytes=`,
        `${T}:50.000000+00:00 heroku[web.1]: Error R10 (Boot timeout) -> Web process failed to bind to $PORT within 60 seconds of launch`,
      ),
      'H10',
    );
    assert.equal(d?.cause, 'boot-failure');
  });

  it('legacy sock=client H18 is the client going away', () => {
    const d = causeOf(
      log(
        `2013-03-02T10:15:05+00:00 heroku[router]: at=error code=H18 desc="Request Interrupted" method=POST path=/upload host=a fwd="1" dyno=web.1 connect=1ms service=9000ms status=503 bytes=37400 sock=client`,
      ),
      'H18',
    );
    assert.equal(d?.cause, 'client-side');
  });

  it('a platform-written request id on the dyno, then a segfault: the crash', () => {
    const d = causeOf(
      log(
        `${T}:05.000000+00:00 heroku[web.1]: request_id=5d3f2a10-6b8c-4e7f-9a01-H1300000000 Process running`,
        router('05.010000', 'H13'),
        `${T}:05.020000+00:00 heroku[web.1]: Process exited with status 139`,
      ),
    );
    assert.equal(d?.cause, 'app-crash');
    assert.ok(d?.evidence.some((e) => e.kind === 'request-id'));
  });
});

describe('platform errors are first-class', () => {
  it('R10, R12, R14, R15 and L10 are counted by code in the report', async () => {
    const { buildReport } = await import('../../src/analyze/report.js');
    const { result } = analyzeText(
      log(
        `${T}:01.000000+00:00 heroku[web.1]: Error R14 (Memory quota exceeded)`,
        `${T}:02.000000+00:00 heroku[web.1]: Error R15 (Memory quota vastly exceeded)`,
        `${T}:03.000000+00:00 heroku[web.1]: Error R12 (Exit timeout) -> At least one process failed to exit within 30 seconds of SIGTERM`,
        `${T}:04.000000+00:00 heroku[web.2]: Error R10 (Boot timeout) -> Web process failed to bind to $PORT within 60 seconds of launch`,
        `${T}:05.000000+00:00 heroku[logplex]: Error L10 (output buffer overflow): 3 messages dropped since 2026-03-02T10:14:00+00:00.`,
      ),
    );
    const report = buildReport(result);
    assert.deepEqual(report.totals.byCode, { L10: 1, R10: 1, R12: 1, R14: 1, R15: 1 });
    assert.equal(report.totals.platform, 5);
    assert.equal(report.totals.errors, 0);
    // No request, no route: said so, and the dyno in its own field (it was put in the route).
    for (const g of report.groups) {
      assert.equal(g.route, '(no route)', `${g.code} route`);
      assert.ok(g.dynos.length === 1 && !g.dynos.includes('(no route)'), `${g.code} dynos`);
    }
    const r14 = report.groups.find((g) => g.code === 'R14');
    assert.deepEqual(
      [r14?.dynos, r14?.samples[0]?.dyno, r14?.samples[0]?.route],
      [['web.1'], 'web.1', '(no route)'],
    );
  });
});
