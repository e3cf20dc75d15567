/** argv of `h13 run` in tests: the router on any free port, a grace period, a fixture app. */

import { CLI, fixture } from '../helpers/paths.js';

export function runArgv(
  app: string,
  appArgs: readonly string[] = [],
  options: readonly string[] = [],
): string[] {
  return [
    CLI,
    'run',
    '--port',
    '0',
    '--grace',
    '5s',
    ...options,
    '--',
    process.execPath,
    fixture(app),
    ...appArgs,
  ];
}
