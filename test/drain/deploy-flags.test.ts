/**
 * The drain's runtime settings on a deploy: the Procfile's web: line pins V8's young
 * generation (docs/drain.md, "Performance": without it, Node 24 on a large machine lets the
 * two semi-spaces grow to 64 MiB each over minutes, which the 10-minute soak saw as RSS
 * rising). The benchmark reads the same flags from the Procfile, so it measures what deploys.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nodeFlagsArg, webNodeFlags } from '../../bench/drain/deploy-flags.js';
import { spawnProcess } from '../helpers/process.js';

const PROCFILE = fileURLToPath(new URL('../../../Procfile', import.meta.url));

describe('the node flags of the Procfile, as the drain benchmark reads them', () => {
  it('takes the flags between node and the script, and nothing from other commands', () => {
    assert.deepEqual(webNodeFlags('release: true\nweb: node --a=1 --b dist/cli/main.js $PORT\n'), [
      '--a=1',
      '--b',
    ]);
    assert.deepEqual(webNodeFlags('web: node dist/cli/main.js drain'), []);
    assert.deepEqual(webNodeFlags('web: npm start'), []);
    assert.deepEqual(webNodeFlags('worker: node --x w.js'), []);
    assert.deepEqual(nodeFlagsArg(''), []);
    assert.deepEqual(nodeFlagsArg(' --a  --b=2 '), ['--a', '--b=2']);
    assert.equal(nodeFlagsArg(undefined), undefined);
  });

  it("the repository's Procfile caps the semi-space, and V8 keeps the young generation within it", async () => {
    const flags = webNodeFlags(readFileSync(PROCFILE, 'utf8'));
    const semi = flags.find((f) => f.startsWith('--max-semi-space-size='));
    assert.ok(semi !== undefined, `Procfile flags: ${flags.join(' ')}`);
    const capMiB = Number(semi.split('=')[1]);
    // Allocation that survives a little (what makes V8 grow the young generation), then the
    // new space's size as V8 reports it. Without the flag the same script ends with 128 MiB
    // of new space on Node 24 and 64 MiB on Node 26 on the 24 GiB development machine (V8
    // sizes the maximum from the memory it sees, so no assertion is made about the default).
    const script = `
      const v8 = require('node:v8');
      const keep = [];
      for (let round = 0; round < 1500; round++) {
        for (let i = 0; i < 20000; i++) {
          const o = { s: 'x'.repeat(40) + i, n: [i, round] };
          if (i % 400 === 0) { keep.push(o); if (keep.length > 20000) keep.shift(); }
        }
      }
      const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
      console.log('new_space ' + ns.space_size);`;
    const p = spawnProcess(process.execPath, [...flags, '-e', script]);
    const m = await p.waitFor(/new_space (\d+)/, 60_000);
    assert.equal(await p.exited(10_000), 0, p.stderr());
    // The new space holds two semi-spaces.
    assert.ok(
      Number(m[1]) <= 2 * capMiB * 1024 * 1024,
      `new space ${m[1]} bytes with ${semi} on Node ${process.version}`,
    );
  });
});
