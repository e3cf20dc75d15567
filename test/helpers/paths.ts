import { fileURLToPath } from 'node:url';

/** The built CLI next to this test build (build/src/cli/main.js). */
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** A compiled fixture script from test/fixtures (build/test/fixtures/<name>.js). */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}.js`, import.meta.url));
}
