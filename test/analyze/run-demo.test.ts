import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startRun } from '../../src/run/index.js';
import { CLI } from '../helpers/paths.js';
import { analyzeText } from './analyze-helpers.js';

/** What `h13 run` logs for the demo's scenarios, read back by the analyzer. */
describe('analyze on `h13 run` output from the demo', () => {
  it('names the cause of /destroy, /partial, /socket-timeout (1 s) and /throw', async () => {
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
      const hit = async (path: string) => {
        await fetch(run.url + path)
          .then((r) => r.arrayBuffer())
          .catch(() => undefined);
        await run.waitForRecord((r) => r.path === path && r.code !== null, 15_000);
      };
      await hit('/destroy');
      await hit('/partial');
      await hit('/socket-timeout');
      await hit('/throw');
      await run.waitForLine(/Process exited with status/, 15_000);
    } finally {
      await run.stop();
    }
    const { result, diagnoses } = analyzeText(`${run.lines.join('\n')}\n`);
    assert.equal(result.stats.unparsed, 0, result.stats.unparsedSamples.join('\n'));
    const causeOf = (path: string) => diagnoses.find((d) => d.path === path);
    // The demo logs each request with its id: the app got it and never answered.
    assert.equal(causeOf('/destroy')?.cause, 'silent-close');
    assert.equal(causeOf('/partial')?.code, 'H18');
    assert.equal(causeOf('/partial')?.cause, 'partial-response');
    assert.equal(causeOf('/socket-timeout')?.cause, 'socket-timeout');
    for (const d of diagnoses) if (d.evidence.length === 0) assert.notEqual(d.confidence, 'high');
    const thrown = causeOf('/throw');
    assert.equal(thrown?.cause, 'app-crash', run.lines.join('\n'));
    assert.ok(thrown?.evidence.some((e) => e.kind === 'stack'));
    assert.ok(thrown?.evidence.some((e) => e.kind === 'exit' || e.kind === 'crash'));
  });
});
