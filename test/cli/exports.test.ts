/**
 * The package's exports map, as a user imports it (self-reference resolves `h13/...` to dist/,
 * which `npm test` builds first), and the guard's promise of no runtime dependencies.
 */

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { packageRoot } from '../../src/core/package-root.js';

it('exposes the guard, register, cluster and router entry points', async () => {
  const main = (await import('h13')) as Record<string, unknown>;
  const guard = (await import('h13/guard')) as Record<string, unknown>;
  const cluster = (await import('h13/cluster')) as Record<string, unknown>;
  const router = (await import('h13/router')) as Record<string, unknown>;
  assert.equal(typeof main.guard, 'function');
  assert.equal(main.guard, guard.guard);
  assert.equal(typeof guard.step, 'function');
  assert.ok(Object.values(cluster).some((v) => typeof v === 'function'));
  for (const name of [
    'startRouter',
    'startRun',
    'staticDynos',
    'formatRouterMessage',
    'parseRouterMessage',
  ]) {
    assert.equal(typeof router[name], 'function', name);
  }
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
    exports: Record<string, unknown>;
  };
  const drain = (await import('h13/drain')) as Record<string, unknown>;
  assert.equal(typeof drain.startDrain, 'function');
  assert.deepEqual(Object.keys(pkg.exports).sort(), [
    '.',
    './cluster',
    './drain',
    './guard',
    './package.json',
    './register',
    './router',
  ]);
});

/** The only runtime dependencies, each with the part that uses it (the guard has none). */
const RUNTIME_DEPENDENCIES: Record<string, RegExp> = {
  // The drain's PostgreSQL store (DATABASE_URL), loaded only when one is configured.
  pg: /^src\/drain\/pg-[a-z-]+\.ts$/,
  // The drain's OTLP bodies (Fir telemetry drains), loaded at the first OTLP request.
  protobufjs: /^src\/drain\/otlp-schema\.ts$/,
};

it('runtime dependencies only where allowed, and the guard imports only node: modules and its own files', () => {
  const root = packageRoot();
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  assert.deepEqual(
    Object.keys(pkg.dependencies ?? {}).sort(),
    Object.keys(RUNTIME_DEPENDENCIES).sort(),
  );
  const sources = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? sources(`${dir}/${e.name}`)
        : e.name.endsWith('.ts')
          ? [`${dir}/${e.name}`]
          : [],
    );
  for (const file of sources('src')) {
    const source = readFileSync(join(root, file), 'utf8');
    for (const [dep, allowed] of Object.entries(RUNTIME_DEPENDENCIES))
      if (new RegExp(`(from |\\()'${dep}'`).test(source))
        assert.match(file, allowed, `${file} imports ${dep}`);
  }
  const guardDir = join(root, 'src', 'guard');
  for (const file of readdirSync(guardDir)) {
    const source = readFileSync(join(guardDir, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    for (const m of source.matchAll(/\bfrom '([^']+)'|\bimport\('([^']+)'\)/g)) {
      const spec = (m[1] ?? m[2]) as string;
      assert.ok(spec.startsWith('node:') || spec.startsWith('.'), `${file} imports ${spec}`);
    }
  }
});
