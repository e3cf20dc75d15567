import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  corpusProblems,
  type Levels,
  levelsOf,
  loadExpectations,
  scoreCorpus,
  shortfalls,
} from '../../scripts/score-real-core.js';

/** The corpus in the source tree (data files are not compiled into build/). */
const DIR = fileURLToPath(new URL('../../../test/data/analyze/real/', import.meta.url));

describe('real-log corpus (issue 15)', () => {
  const exp = loadExpectations(DIR);

  it('is whole: every router and platform error line has its expectation, every group its source', () => {
    assert.deepEqual(corpusProblems(DIR, exp), []);
  });

  it('holds at least 40 groups, at least half of them from Node apps', () => {
    const node = exp.groups.filter((g) => g.language === 'node').length;
    assert.ok(exp.groups.length >= 40, `${exp.groups.length} groups`);
    assert.ok(node * 2 >= exp.groups.length, `${node} of ${exp.groups.length} from Node`);
  });

  it('the analyzer stays at or above the recorded accuracy (npm run score:real shows the misses)', async () => {
    const recorded = JSON.parse(readFileSync(`${DIR}recorded.json`, 'utf8')) as Levels;
    const now = levelsOf(await scoreCorpus(DIR));
    assert.deepEqual(shortfalls(now, recorded), [], `now ${JSON.stringify(now)}`);
  });
});
