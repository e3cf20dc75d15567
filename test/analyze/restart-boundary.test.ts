import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeText } from './analyze-helpers.js';

// Evidence never crosses a restart: what the previous process of a dyno logged (its R14, its
// SIGTERM) says nothing of a request the next process dropped.
const T = '2026-03-02T10:1';
const h13 = `${T}5:05.010000+00:00 heroku[router]: at=error code=H13 desc="Connection closed without response" method=GET path="/boom" host=a.herokuapp.com request_id=0b7a4e2c-19d5-4f7e-b3c8-6a1d2e3f4a5b fwd="1.2.3.4" dyno=web.1 connect=1ms service=12ms status=503 bytes=0 protocol=https`;
const crash = [
  `${T}5:05.000000+00:00 app[web.1]: Error: boom`,
  `${T}5:05.001000+00:00 app[web.1]:     at /app/server.js:12:11`,
  h13,
  `${T}5:05.100000+00:00 heroku[web.1]: Process exited with status 1`,
  `${T}5:05.110000+00:00 heroku[web.1]: State changed from up to crashed`,
];
const memory = [
  `${T}4:09.000000+00:00 heroku[web.1]: Process running mem=560M(109.4%)`,
  `${T}4:09.000100+00:00 heroku[web.1]: Error R14 (Memory quota exceeded)`,
];
const log = (...lines: string[]) => `${lines.join('\n')}\n`;
const h13Of = (text: string) => analyzeText(text).diagnoses.find((d) => d.code === 'H13');

describe('evidence does not cross a restart', () => {
  it('an R14 of the previous process (56 s before) does not make a crash out-of-memory', () => {
    const d = h13Of(
      log(
        ...memory,
        `${T}4:20.000000+00:00 heroku[web.1]: Restarting`,
        `${T}4:20.000100+00:00 heroku[web.1]: State changed from up to starting`,
        `${T}4:21.000000+00:00 heroku[web.1]: Stopping all processes with SIGTERM`,
        `${T}4:22.000000+00:00 heroku[web.1]: Process exited with status 143`,
        `${T}4:25.000000+00:00 heroku[web.1]: Starting process with command \`node server.js\``,
        `${T}4:27.000000+00:00 app[web.1]: listening on 31337`,
        `${T}4:28.000000+00:00 heroku[web.1]: State changed from starting to up`,
        ...crash,
      ),
    );
    assert.equal(d?.cause, 'app-crash', d?.reason);
    assert.ok(!d?.evidence.some((e) => e.kind === 'memory'));
  });

  it('a SIGTERM of the previous process (25 s before) does not make a crash a restart race', () => {
    const d = h13Of(
      log(
        `${T}4:40.000000+00:00 heroku[web.1]: Stopping all processes with SIGTERM`,
        `${T}4:41.000000+00:00 heroku[web.1]: Process exited with status 143`,
        `${T}4:42.000000+00:00 heroku[web.1]: Starting process with command \`npm start\``,
        `${T}4:44.000000+00:00 heroku[web.1]: State changed from starting to up`,
        ...crash,
      ),
    );
    assert.equal(d?.cause, 'app-crash', d?.reason);
  });

  it('each mark of a new process is a boundary alone: up, starting, start, an earlier exit', () => {
    for (const mark of [
      `${T}4:28.000000+00:00 heroku[web.1]: State changed from starting to up`,
      `${T}4:25.000000+00:00 heroku[web.1]: State changed from crashed to starting`,
      `${T}4:25.000000+00:00 heroku[web.1]: Starting process with command \`node server.js\``,
      `${T}4:15.000000+00:00 heroku[web.1]: Process exited with status 137`,
    ]) {
      const d = h13Of(log(...memory, mark, ...crash));
      assert.equal(d?.cause, 'app-crash', `${mark}: ${d?.reason}`);
    }
  });

  it('a restart that starts the new process before the old one exits keeps the old SIGTERM', () => {
    // As `h13 run` restarts (and Heroku's preboot): the new process starts as soon as the old
    // one is signalled, and the old one's in-flight request is cut after that.
    const d = h13Of(
      log(
        `${T}4:00.000000+00:00 heroku[web.1]: Starting process with command \`node server.js\``,
        `${T}4:01.000000+00:00 heroku[web.1]: State changed from starting to up`,
        `${T}5:04.000000+00:00 heroku[web.1]: Restarting`,
        `${T}5:04.000100+00:00 heroku[web.1]: State changed from up to starting`,
        `${T}5:04.000200+00:00 heroku[web.1]: Stopping all processes with SIGTERM`,
        `${T}5:04.010000+00:00 heroku[web.1]: Starting process with command \`node server.js\``,
        h13,
        `${T}5:05.020000+00:00 heroku[web.1]: Process exited with status 143`,
        `${T}5:06.000000+00:00 heroku[web.1]: State changed from starting to up`,
      ),
    );
    assert.deepEqual([d?.cause, d?.confidence], ['restart-race', 'high'], d?.reason);
  });

  it('the same R14 in the same process still names out-of-memory', () => {
    const d = h13Of(log(...memory, ...crash));
    assert.equal(d?.cause, 'out-of-memory', d?.reason);
  });

  it('another dyno restarting draws no boundary for this one', () => {
    const d = h13Of(
      log(
        ...memory,
        `${T}4:28.000000+00:00 heroku[web.2]: State changed from starting to up`,
        ...crash,
      ),
    );
    assert.equal(d?.cause, 'out-of-memory', d?.reason);
  });
});
