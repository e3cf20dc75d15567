import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { analyzeText } from '../analyze/analyze-helpers.js';
import {
  appInfo,
  type DrainProcess,
  diagnosesOf,
  postFrames,
  send,
  startDrainProcess,
} from './drain-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'h13-drain-real-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Published logs, quoted as published (test data only; the same groups are in the real-log
 * corpus of test/data/analyze/real, 16 and 14).
 */
// https://github.com/dev-hato/hato-bot/pull/1718, comment by massongit, 2022-10-16 (`heroku
// logs`; the last line is cut mid-field in the paste).
const HATO = [
  '2022-10-16T13:20:59.613005+00:00 heroku[web.1]: Process running mem=869M(169.7%)',
  '2022-10-16T13:20:59.615409+00:00 heroku[web.1]: Error R14 (Memory quota exceeded)',
  '2022-10-16T13:21:08.071320+00:00 heroku[web.1]: Process running mem=1280M(250.0%)',
  '2022-10-16T13:21:08.169352+00:00 heroku[web.1]: Error R15 (Memory quota vastly exceeded)',
  '2022-10-16T13:21:08.180156+00:00 heroku[web.1]: Stopping process with SIGKILL',
  '2022-10-16T13:21:08.211637+00:00 heroku[router]: at=error code=H13 desc="Connecti',
];
// https://github.com/mrluanma/shadowsocks-heroku/issues/2 (mrluanma, 2015-01-08): Papertrail
// lines, trailing spaces as published.
const SHADOWSOCKS = [
  'Jan 08 10:55:11 warm-cliffs-8392 heroku/web.1:  source=web.1 dyno=heroku.23223846.3654f538-ec7a-4036-ab26-c533467c9a8a sample#load_avg_1m=0.92 sample#load_avg_5m=0.81 sample#load_avg_15m=0.47 ',
  'Jan 08 10:55:11 warm-cliffs-8392 heroku/web.1:  source=web.1 dyno=heroku.23223846.3654f538-ec7a-4036-ab26-c533467c9a8a sample#memory_total=1210.76MB sample#memory_rss=512.00MB sample#memory_cache=0.00MB sample#memory_swap=698.76MB sample#memory_pgpgin=604160pages sample#memory_pgpgout=473088pages ',
  'Jan 08 10:55:11 warm-cliffs-8392 heroku/web.1:  Process running mem=1210M(236.5%) ',
  'Jan 08 10:55:11 warm-cliffs-8392 heroku/web.1:  Error R14 (Memory quota exceeded) ',
];

describe('h13 drain on published Heroku logs', () => {
  let d: DrainProcess;
  before(async () => {
    d = await startDrainProcess(join(dir, 'real.db'), ['--window', '300ms']);
  });
  after(() => d.proc.kill());

  it('hato-bot (logplex frames): R14 and R15 counted; the diagnoses are those of h13 analyze', async () => {
    const own = await startDrainProcess(join(dir, 'hato.db'));
    const r = await postFrames(own.url, 'hato-bot', HATO, 'HATO-1');
    assert.equal(r.status, 200, r.text);
    const info = await appInfo(own.url, 'hato-bot');
    assert.deepEqual(info?.platformErrors, { R14: 1, R15: 1 });
    // The analyzer on main does not read this cut H13 line yet (corpus group 16 expects
    // out-of-memory): whatever it reads, the drain must give the same. SIGTERM decides what
    // is pending and stores it, so there is nothing left to wait for.
    own.proc.child.kill('SIGTERM');
    assert.equal(await own.proc.exited(), 0);
    const again = await startDrainProcess(join(dir, 'hato.db'));
    try {
      const expected = analyzeText(`${HATO.join('\n')}\n`).diagnoses.map(
        (x) => `${x.code} ${x.cause}`,
      );
      assert.deepEqual(
        (await diagnosesOf(again.url, 'hato-bot')).map((x) => `${x.code} ${x.cause}`),
        expected,
      );
    } finally {
      again.proc.kill();
    }
  });

  it('shadowsocks-heroku (Papertrail text on /ingest): the R14 counted', async () => {
    const r = await send(d.url, { path: '/ingest/warm-cliffs-8392', body: SHADOWSOCKS.join('\n') });
    assert.equal(r.status, 200, r.text);
    const info = await appInfo(d.url, 'warm-cliffs-8392');
    assert.deepEqual(info?.platformErrors, { R14: 1 });
    assert.equal(info?.counters.lines, 4);
  });
});
