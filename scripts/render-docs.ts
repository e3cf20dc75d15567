/**
 * Renders the reference pages that come from code tables: docs/codes.md (router codes) and
 * docs/errors.md (H13_ERR_* codes). `npm run docs` writes them; test/core/docs-sync.test.ts
 * fails when a page and its table disagree.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFormatsSection } from '../src/analyze/formats/index.js';
import { ROUTER_CODES } from '../src/core/codes.js';
import { ERROR_CODES } from '../src/core/errors.js';
import { packageRoot } from '../src/core/package-root.js';

const cell = (text: string) => text.replace(/\|/g, '\\|');

export function renderCodesPage(): string {
  const rows = Object.values(ROUTER_CODES).map((c) => {
    const desc = c.variants.map((v) => `\`${cell(v)}\``).join('<br>');
    const causes = c.causes.length === 0 ? '' : c.causes.map((v) => `\`${cell(v)}\``).join('<br>');
    return `| ${c.code} | ${desc} | ${causes} | ${c.level} | ${c.status ?? '(empty)'} | ${c.sock === null ? '' : `\`sock=${c.sock}\``} | ${cell(c.trigger)} |`;
  });
  return [
    '# Router codes',
    '',
    'Generated from `src/core/codes.ts` by `npm run docs`; a test fails when they differ.',
    'Every component that writes or reads a router line uses that table.',
    '',
    '| code | desc (exactly as logged) | cause= values | at | status | prefix | when |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

export function renderErrorsPage(): string {
  return [
    '# Error codes',
    '',
    'Every error h13 throws on purpose is an `H13Error` with one of these stable `code`s',
    '(and, where it is about one option or field, a `field`). Generated from',
    '`src/core/errors.ts` by `npm run docs`; a test fails when they differ.',
    '',
    '| code | meaning |',
    '|---|---|',
    ...Object.entries(ERROR_CODES).map(([code, meaning]) => `| \`${code}\` | ${cell(meaning)} |`),
    '',
  ].join('\n');
}

if (
  process.argv[1] !== undefined &&
  import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))
) {
  const root = packageRoot();
  writeFileSync(join(root, 'docs', 'codes.md'), renderCodesPage());
  writeFileSync(join(root, 'docs', 'errors.md'), renderErrorsPage());
  const analyzeDoc = join(root, 'docs', 'analyze.md');
  writeFileSync(analyzeDoc, replaceFormatsSection(readFileSync(analyzeDoc, 'utf8')));
  console.log('wrote docs/codes.md and docs/errors.md');
}
