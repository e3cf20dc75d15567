/**
 * The node flags a deploy starts the drain with, read from the Procfile's web: line, so the
 * benchmark measures the drain as it runs on Heroku rather than with whatever V8 picks on
 * this machine (V8 sizes its young generation from the heap limit, which it derives from the
 * machine's memory: a 24 GiB development machine and a 512 MB dyno get different defaults).
 */

import { webCommandOf } from '../../src/run/procfile.js';

/** `web: node --max-semi-space-size=16 dist/cli/main.js drain` → ['--max-semi-space-size=16']. */
export function webNodeFlags(procfile: string): string[] {
  const words = (webCommandOf(procfile) ?? '').split(/\s+/);
  if (words[0] !== 'node') return [];
  const flags: string[] = [];
  for (const w of words.slice(1)) {
    if (!w.startsWith('-')) break;
    flags.push(w);
  }
  return flags;
}

/** A `--node-flags "…"` argument as argv words ('' → none: V8's defaults). */
export function nodeFlagsArg(value: string | undefined): string[] | undefined {
  return value?.split(/\s+/).filter((w) => w !== '');
}
