/**
 * Renders the reference pages that come from code tables: docs/codes.md (router codes) and
 * docs/errors.md (H13_ERR_* codes). `npm run docs` writes them; test/core/docs-sync.test.ts
 * fails when a page and its table disagree.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderFormatsDoc } from '../src/analyze/formats/index.js';
import { ROUTER_CODES } from '../src/core/codes.js';
import { ERROR_CODES } from '../src/core/errors.js';
import { markdownCell, withGenerated } from '../src/core/generated-docs.js';
import { renderGuardVocabulary } from '../src/core/guard-vocabulary.js';
import { packageRoot } from '../src/core/package-root.js';
import { renderDrainReference } from '../src/drain/reference.js';
import { renderRouterOptionsTable } from '../src/router/options.js';
import { renderRunOptionsTable } from '../src/run/options.js';

/**
 * Every generated part of a hand-written page: the page, the part's name (its markers, see
 * src/core/generated-docs.ts) and what renders it. `npm run docs` writes them all;
 * test/core/docs-sync.test.ts checks them all.
 */
export const GENERATED_PARTS = [
  { page: 'router.md', name: 'router-options', render: renderRouterOptionsTable },
  { page: 'run.md', name: 'run-options', render: renderRunOptionsTable },
  { page: 'guard.md', name: 'guard-vocabulary', render: renderGuardVocabulary },
  { page: 'drain.md', name: 'drain-reference', render: renderDrainReference },
  { page: 'analyze.md', name: 'analyze-formats', render: renderFormatsDoc },
] as const;

/** `text` (the page `page` as it is) with every generated part of it rendered anew. */
export function renderGeneratedParts(page: string, text: string): string {
  let out = text;
  for (const part of GENERATED_PARTS) {
    if (part.page === page) out = withGenerated(out, part.name, part.render());
  }
  return out;
}

const cell = markdownCell;

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
    '```ts',
    "import { ERROR_CODES, H13Error, isH13Error } from 'h13'; // also from 'h13/router'",
    '',
    "if (isH13Error(err, 'H13_ERR_INVALID_OPTION')) console.error(err.field, err.message);",
    '```',
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
  for (const page of new Set(GENERATED_PARTS.map((p) => p.page))) {
    const path = join(root, 'docs', page);
    writeFileSync(path, renderGeneratedParts(page, readFileSync(path, 'utf8')));
  }
  console.log(
    'wrote docs/codes.md, docs/errors.md and the generated parts of docs/router.md, docs/run.md, docs/guard.md, docs/drain.md and docs/analyze.md',
  );
}
