import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { CAUSE_IDS } from '../../src/analyze/causes.js';
import { FORMATS } from '../../src/analyze/formats/index.js';
import { PLATFORM_CODES } from '../../src/analyze/platform-errors.js';
import { emptyStats } from '../../src/analyze/types.js';
import { packageRoot } from '../../src/core/package-root.js';

const doc = () => readFileSync(join(packageRoot(), 'docs', 'analyze.md'), 'utf8');

it('the input stats count every format of the table, and no other', () => {
  assert.deepEqual(
    Object.keys(emptyStats().formats),
    FORMATS.map((f) => f.id),
  );
});

it('docs/analyze.md names every cause id and every platform code', () => {
  const text = doc();
  for (const id of CAUSE_IDS) assert.ok(text.includes(`\`${id}\``), id);
  for (const code of Object.keys(PLATFORM_CODES)) assert.ok(text.includes(code), code);
});
