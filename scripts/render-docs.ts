/**
 * Renders the reference pages that come from code tables: docs/codes.md (router codes) and
 * docs/errors.md (H13_ERR_* codes). `npm run docs` writes them; test/core/docs-sync.test.ts
 * fails when a page and its table disagree.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROUTER_CODES } from '../src/core/codes.js';
import { ERROR_CODES } from '../src/core/errors.js';
import { spliceGuardVocabulary } from '../src/core/guard-vocabulary.js';
import { packageRoot } from '../src/core/package-root.js';
import { writeDrainPage } from '../src/drain/reference.js';
import { renderRouterOptionsTable } from '../src/router/options.js';
import { withRunOptionsTable } from '../src/run/options.js';

/** Markers around a generated part of a hand-written page. */
export const GENERATED_START = '<!-- generated: do not edit (npm run docs) -->';
export const GENERATED_END = '<!-- end generated -->';

/** `page` with the part between the markers replaced by `body`. */
export function withGenerated(page: string, body: string): string {
  const start = page.indexOf(GENERATED_START);
  const end = page.indexOf(GENERATED_END);
  if (start < 0 || end < start) throw new Error('generated-part markers not found');
  return `${page.slice(0, start + GENERATED_START.length)}\n${body}\n${page.slice(end)}`;
}

/** docs/router.md with its option table rendered from ROUTER_OPTIONS. */
export function renderRouterPage(current: string): string {
  return withGenerated(current, renderRouterOptionsTable());
}

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
  const routerPage = join(root, 'docs', 'router.md');
  writeFileSync(routerPage, renderRouterPage(readFileSync(routerPage, 'utf8')));
  writeDrainPage(root);
  const run = join(root, 'docs', 'run.md');
  writeFileSync(run, withRunOptionsTable(readFileSync(run, 'utf8')));
  const guardPage = join(root, 'docs', 'guard.md');
  writeFileSync(guardPage, spliceGuardVocabulary(readFileSync(guardPage, 'utf8')));
  console.log(
    'wrote docs/codes.md, docs/errors.md, docs/drain.md and the generated parts of docs/router.md, docs/run.md and docs/guard.md',
  );
}
