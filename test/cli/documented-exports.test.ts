/**
 * Every name the docs promise is exported by its entry point. Type level: this file imports
 * each documented name from the package as a user does (self-reference to dist/), so the build
 * fails when one is missing. Run time: every `import { ... } from 'h13...'` in README.md and
 * docs/*.md, and every name the docs say an entry point exports, resolves.
 */

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import {
  ERROR_CODES,
  type ErrorCode,
  guard,
  H13Error,
  isH13Error,
  onShutdown,
  shutdown,
  step,
} from 'h13';
import { cluster, workersFromEnv } from 'h13/cluster';
import {
  currentRequest,
  guardStats,
  isGuarded,
  requestId,
  requestInfo,
  setRoute,
  stepFor,
} from 'h13/guard';
import {
  bufferedLines,
  createLogSink,
  DynoTable,
  HEROKU_TIMERS,
  type Isolation,
  ROUTER_CODES,
  ERROR_CODES as ROUTER_ERROR_CODES,
  H13Error as RouterH13Error,
  type RouterRecord,
  RUN_OPTIONS,
  type RunHandle,
  type RunOptions,
  isH13Error as routerIsH13Error,
  startRouter,
  startRun,
  staticDynos,
} from 'h13/router';
import { packageRoot } from '../../src/core/package-root.js';

it('imports every documented name (type level) and each is a real value', () => {
  const code: ErrorCode = 'H13_ERR_INVALID_OPTION';
  const isolation: Isolation = 'pid-namespace';
  const typed: Array<RouterRecord | RunHandle | RunOptions | undefined> = [];
  assert.ok(typed.length === 0 && isolation.length > 0);
  for (const f of [
    guard,
    onShutdown,
    shutdown,
    step,
    cluster,
    workersFromEnv,
    currentRequest,
    guardStats,
    isGuarded,
    requestId,
    requestInfo,
    setRoute,
    stepFor,
    bufferedLines,
    createLogSink,
    startRouter,
    startRun,
    staticDynos,
    isH13Error,
  ]) {
    assert.equal(typeof f, 'function');
  }
  assert.equal(typeof DynoTable, 'function');
  assert.ok(code in ERROR_CODES);
  assert.equal(ROUTER_ERROR_CODES, ERROR_CODES);
  assert.equal(RouterH13Error, H13Error);
  assert.equal(routerIsH13Error, isH13Error);
  assert.ok(isH13Error(new H13Error(code, 'x'), code));
  assert.ok(!isH13Error(new Error('x')));
  assert.ok('H13' in ROUTER_CODES);
  assert.ok('grace' in RUN_OPTIONS);
  assert.equal(typeof HEROKU_TIMERS.firstByte, 'number');
});

it("every `import { ... } from 'h13...'` in the docs resolves, name by name", async () => {
  const root = packageRoot();
  const pages = [
    join(root, 'README.md'),
    ...readdirSync(join(root, 'docs')).map((f) => join(root, 'docs', f)),
  ];
  let seen = 0;
  for (const page of pages) {
    const text = readFileSync(page, 'utf8');
    for (const m of text.matchAll(/import\s*\{([^}]+)\}\s*from\s*'(h13(?:\/[a-z]+)?)'/g)) {
      const entry = (await import(m[2] as string)) as Record<string, unknown>;
      for (const raw of (m[1] as string).split(',')) {
        const name = raw.trim().replace(/^type\s+/, '');
        if (name === '' || raw.trim().startsWith('type ')) continue;
        seen++;
        assert.ok(name in entry, `${page}: ${name} is not exported by ${m[2]}`);
      }
    }
  }
  assert.ok(seen >= 5, `found ${seen} documented imports`);
});
