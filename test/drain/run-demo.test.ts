import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startRun } from '../../src/run/index.js';
import { analyzeText } from '../analyze/analyze-helpers.js';
import { CLI } from '../helpers/paths.js';
import { until } from '../helpers/wait.js';
import { diagnosesOf, postFrames, send, startDrainProcess } from './drain-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'h13-drain-run-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The demo behind `h13 run` makes real H13s and H18s; its `heroku logs` lines reach the drain
 * as logplex batches of ten frames, and plain text. The drain must name the same code and
 * cause per request as `h13 analyze` on the whole log at once.
 */
describe('h13 drain on `h13 run` output from the demo', () => {
  it('gives the same diagnoses as h13 analyze, from logplex batches and from text', async () => {
    const run = await startRun({
      command: [process.execPath, CLI, 'demo'],
      dynos: 1,
      host: '127.0.0.1',
      log: null,
      collect: true,
      restartDelay: 50,
    });
    try {
      await run.whenUp();
      for (const path of ['/destroy', '/partial', '/throw']) {
        await fetch(run.url + path)
          .then((r) => r.arrayBuffer())
          .catch(() => undefined);
        await run.waitForRecord((r) => r.path === path && r.code !== null, 15_000);
      }
      await run.waitForLine(/Process exited with status/, 15_000);
    } finally {
      await run.stop();
    }
    const lines = run.lines.filter((l) => l !== '');
    const expected = analyzeText(`${lines.join('\n')}\n`)
      .diagnoses.map((d) => `${d.requestId} ${d.code} ${d.cause}`)
      .sort();
    assert.ok(expected.length >= 3, expected.join('\n'));

    const drain = await startDrainProcess(join(dir, 'run.db'), ['--window', '1s']);
    try {
      for (let i = 0; i < lines.length; i += 10) {
        const r = await postFrames(drain.url, 'demo-frames', lines.slice(i, i + 10), `B${i}`);
        assert.equal(r.status, 200, r.text);
      }
      const text = await send(drain.url, { path: '/ingest/demo-text', body: lines.join('\n') });
      assert.equal(text.status, 200, text.text);
      for (const app of ['demo-frames', 'demo-text']) {
        await until(
          async () => (await diagnosesOf(drain.url, app)).length >= expected.length,
          15_000,
          `${expected.length} diagnoses of ${app}`,
        );
        const got = (await diagnosesOf(drain.url, app))
          .map((d) => `${d.requestId} ${d.code} ${d.cause}`)
          .sort();
        assert.deepEqual(got, expected, app);
      }
    } finally {
      drain.proc.kill();
    }
  });
});
