import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { renderCodesPage, renderErrorsPage } from '../../scripts/render-docs.js';
import { packageRoot } from '../../src/core/package-root.js';

const read = (name: string) => readFileSync(join(packageRoot(), 'docs', name), 'utf8');

it('docs/codes.md lists every router code exactly as src/core/codes.ts (run npm run docs)', () => {
  assert.equal(read('codes.md'), renderCodesPage());
});

it('docs/errors.md lists every H13_ERR_* code exactly as src/core/errors.ts (run npm run docs)', () => {
  assert.equal(read('errors.md'), renderErrorsPage());
});
