import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { H13Error } from '../../src/core/errors.js';
import { AppAnalyses } from '../../src/drain/app-analyses.js';
import { AppLimits } from '../../src/drain/app-limits.js';
import { DRAIN_API_NAMES, DRAIN_OPTIONS, resolveDrainOptions } from '../../src/drain/options.js';
import type { StoredDiagnosis } from '../../src/drain/store.js';
import { CLI } from '../helpers/paths.js';

const throwsCode = (fn: () => unknown, code: string, field: string) =>
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof H13Error);
    assert.equal(err.code, code);
    assert.equal(err.field, field);
    return true;
  });

describe('startDrain options: the table that drives the CLI validates the library too', () => {
  it('every option of the table has its library name', () => {
    assert.deepEqual(Object.keys(DRAIN_API_NAMES).sort(), Object.keys(DRAIN_OPTIONS).sort());
  });

  it('refuses wrong types, out-of-range values and unknown names, naming the field', () => {
    throwsCode(() => resolveDrainOptions({ port: -1 }, {}), 'H13_ERR_INVALID_OPTION', 'port');
    throwsCode(
      () => resolveDrainOptions({ retentionMs: '5s' as unknown as number }, {}),
      'H13_ERR_INVALID_OPTION',
      'retentionMs',
    );
    throwsCode(
      () => resolveDrainOptions({ maxBodyBytes: 10 }, {}),
      'H13_ERR_INVALID_OPTION',
      'maxBodyBytes',
    );
    throwsCode(() => resolveDrainOptions({ dbPath: '' }, {}), 'H13_ERR_INVALID_OPTION', 'dbPath');
    throwsCode(
      () =>
        resolveDrainOptions(
          { bogus: 1 } as unknown as Parameters<typeof resolveDrainOptions>[0],
          {},
        ),
      'H13_ERR_UNKNOWN_OPTION',
      'bogus',
    );
    throwsCode(() => resolveDrainOptions({}, { PORT: 'abc' }), 'H13_ERR_INVALID_OPTION', 'PORT');
  });

  it('defaults: $PORT, loopback locally and every interface on a Heroku dyno, the table defaults', () => {
    const local = resolveDrainOptions({}, { PORT: '5555' });
    assert.equal(local.port, 5555);
    assert.equal(local.host, '127.0.0.1');
    assert.equal(local.retentionMs, DRAIN_OPTIONS.retention.default);
    assert.equal(local.maxBodyBytes, DRAIN_OPTIONS['max-body'].default);
    assert.equal(resolveDrainOptions({}, { DYNO: 'web.1' }).host, '0.0.0.0');
    assert.equal(resolveDrainOptions({ host: '::1' }, { DYNO: 'web.1' }).host, '::1');
  });

  it('the CLI refuses a duration without a unit and lists every option in --help', () => {
    const bad = spawnSync(process.execPath, [CLI, 'drain', '--retention', '5'], {
      encoding: 'utf8',
    });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--retention: "5" has no unit/);
    const help = spawnSync(process.execPath, [CLI, 'drain', '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    for (const name of Object.keys(DRAIN_OPTIONS))
      assert.match(help.stdout, new RegExp(`--${name}\\b`));
  });
});

describe('per-app analyses and limits', () => {
  it('an idle app has its pending errors decided and its analyzer dropped', () => {
    const out: Array<[string, StoredDiagnosis]> = [];
    const analyses = new AppAnalyses({
      windowMs: 5000,
      idleMs: 60_000,
      onDiagnoses: (app, items) => {
        for (const d of items) out.push([app, d]);
      },
      onError: (_app, err) => {
        throw err;
      },
    });
    analyses.feed(
      'a',
      [
        '2026-03-02T10:15:05.010002+00:00 heroku[router]: at=error code=H13 desc="Connection closed without response" method=GET path="/" host=a request_id=5d3f2a10-6b8c-4e7f-9a01-2b3c4d5e6f70 fwd="1.2.3.4" dyno=web.1 connect=0ms service=1ms status=503 bytes=0 protocol=https',
      ],
      1_000,
    );
    analyses.feed('b', ['2026-03-02T10:15:05+00:00 app[web.1]: hello'], 30_000);
    assert.equal(out.length, 0, 'the H13 waits for its evidence window');
    assert.equal(analyses.size, 2);
    analyses.tick(61_000);
    assert.deepEqual(
      out.map(([app, d]) => [app, d.json.code]),
      [['a', 'H13']],
    );
    assert.equal(analyses.size, 1, "a's analyzer is gone, b's (fed 31 s ago) stays");
  });

  it('a token bucket per app: one app spending its burst leaves the others theirs', () => {
    const limits = new AppLimits(10, 2);
    assert.ok(limits.take('a', 20, 0));
    assert.ok(!limits.take('a', 1, 0));
    assert.ok(limits.take('b', 20, 0));
    assert.ok(limits.take('a', 10, 1000), 'refilled at the rate');
    assert.ok(limits.enter('a', 0) && limits.enter('a', 0));
    assert.ok(!limits.enter('a', 0), 'two in flight at most');
    limits.leave('a');
    assert.ok(limits.enter('a', 0));
  });
});
