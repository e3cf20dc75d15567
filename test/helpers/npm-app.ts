/** A throwaway npm project for tests that start an app the way a Procfile's `npm start` does. */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A directory with a package.json whose start script is `start`. */
export function npmApp(start: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'h13-npm-app-'));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'npm-app', version: '1.0.0', private: true, scripts: { start } }),
  );
  return dir;
}
