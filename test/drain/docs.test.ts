import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { packageRoot } from '../../src/core/package-root.js';
import { renderDrainPage } from '../../src/drain/reference.js';

it('docs/drain.md shows the options, routes and counters exactly as their tables (run npm run docs)', () => {
  const page = readFileSync(join(packageRoot(), 'docs', 'drain.md'), 'utf8');
  assert.equal(page, renderDrainPage(page));
});
