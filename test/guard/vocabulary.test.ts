import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { withGenerated } from '../../src/core/generated-docs.js';
import {
  GUARD_CAUSES,
  GUARD_EVENTS,
  renderGuardVocabulary,
} from '../../src/core/guard-vocabulary.js';
import { packageRoot } from '../../src/core/package-root.js';

const guardSources = () => {
  const dir = join(packageRoot(), 'src', 'guard');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
};

it('docs/guard.md carries the event/cause table exactly as src/core/guard-vocabulary.ts (npm run docs)', () => {
  const page = readFileSync(join(packageRoot(), 'docs', 'guard.md'), 'utf8');
  assert.equal(page, withGenerated(page, 'guard-vocabulary', renderGuardVocabulary()));
});

it('the guard writes no event= or cause= literal: every value goes through the table', () => {
  const src = guardSources();
  assert.deepEqual(src.match(/event: '[a-z_]+'/g) ?? [], []);
  // Every event in the table is written somewhere (no value documented for nothing).
  for (const name of Object.keys(GUARD_EVENTS))
    assert.ok(src.includes(`EVENT.${name}`), `EVENT.${name} is never written`);
  for (const name of Object.keys(GUARD_CAUSES))
    assert.ok(
      src.includes(`CAUSE.${name}`) || src.includes(`'${name}'`),
      `cause ${name} is never written`,
    );
});
