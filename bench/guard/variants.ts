/**
 * The benchmarks' variant names, read in one place:
 * - `guard/OPTION=JSON/...`: the guard with those options changed (`guard/requestId=false`);
 * - `NAME@BUILD_DIR`: NAME run from another build, so two versions compare in the same rounds.
 */

import { join, resolve } from 'node:path';

/**
 * The valid X-Request-Id the benchmarks send with `--request-id` (as Heroku's router sends
 * one), and the one `bare+id` answers with: a UUID, the guard's own id length.
 */
export const BENCH_REQUEST_ID = '6f0c2e7a-1f4b-4c55-9a7e-2b8d1c3e4f50';

/** The options a `guard/OPTION=JSON/...` name changes. */
export function optionsOf(name: string): Record<string, unknown> {
  return Object.fromEntries(
    name
      .split('/')
      .slice(1)
      .map((pair) => {
        const [key = '', value = ''] = pair.split('=');
        return [key, JSON.parse(value) as unknown];
      }),
  );
}

/**
 * The script that runs a variant and the name to give it: `script` from this build, or the
 * same file (`bench/guard/FILE`) in the build a `@BUILD_DIR` suffix names.
 */
export function scriptOf(variant: string, script: string, file: string): [string, string] {
  const at = variant.indexOf('@');
  if (at < 0) return [script, variant];
  return [join(resolve(variant.slice(at + 1)), 'bench/guard', file), variant.slice(0, at)];
}
