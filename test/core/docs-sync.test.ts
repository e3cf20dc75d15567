import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import {
  GENERATED_PARTS,
  renderCodesPage,
  renderErrorsPage,
  renderGeneratedParts,
} from '../../scripts/render-docs.js';
import { ERROR_CODES } from '../../src/core/errors.js';
import { packageRoot } from '../../src/core/package-root.js';

const read = (name: string) => readFileSync(join(packageRoot(), 'docs', name), 'utf8');

it('docs/codes.md lists every router code exactly as src/core/codes.ts (run npm run docs)', () => {
  assert.equal(read('codes.md'), renderCodesPage());
});

it('docs/errors.md lists every H13_ERR_* code exactly as src/core/errors.ts (run npm run docs)', () => {
  assert.equal(read('errors.md'), renderErrorsPage());
});

for (const page of new Set(GENERATED_PARTS.map((p) => p.page))) {
  it(`docs/${page}: every generated part is its table's rendering (run npm run docs)`, () => {
    const text = read(page);
    assert.equal(text, renderGeneratedParts(page, text));
  });
}

it('every H13_ERR_* code is raised somewhere (no code documented for nothing)', () => {
  const sources: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !path.endsWith(join('core', 'errors.ts'))) {
        sources.push(readFileSync(path, 'utf8'));
      }
    }
  };
  walk(join(packageRoot(), 'src'));
  const all = sources.join('\n');
  for (const code of Object.keys(ERROR_CODES))
    assert.ok(all.includes(`'${code}'`) || all.includes(`(${code})`), code);
});
