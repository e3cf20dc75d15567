/**
 * Guarding every http.Server that starts listening (`--import h13/register`, and
 * `--import h13/guard`, a natural typo for it). Kept apart from index.ts and register.ts so
 * that both can call it without an import cycle.
 */

import http from 'node:http';
import type { GuardOptions } from './options.js';

type GuardFn = (server: http.Server, options?: GuardOptions) => http.Server;

let patched = false;

/**
 * Patch listen rather than createServer: it catches `new http.Server()`, named imports and
 * frameworks alike, and runs after the framework has set its own timeouts.
 */
export function guardEveryListen(
  guard: GuardFn,
  isGuarded: (s: http.Server) => boolean,
  options: GuardOptions,
): void {
  if (patched) return;
  patched = true;
  const listen = http.Server.prototype.listen;
  http.Server.prototype.listen = function guardedListen(this: http.Server, ...args: unknown[]) {
    if (!isGuarded(this)) guard(this, options);
    return Reflect.apply(listen, this, args) as http.Server;
  } as typeof listen;
}

/** `--import <spec>` / `--import=<spec>` values from argv-like words. */
function importsIn(words: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (w === '--import' && i + 1 < words.length) out.push(words[++i] as string);
    else if (w.startsWith('--import=')) out.push(w.slice('--import='.length));
  }
  return out;
}

/**
 * Whether this module (`h13/guard`) was preloaded with --import, on the command line or in
 * NODE_OPTIONS. `self` is index.js's own URL: a path spec is compared after resolving it.
 */
export function preloadedAs(self: string, cwdUrl: string): boolean {
  const words = [
    ...process.execArgv,
    ...(process.env.NODE_OPTIONS ?? '').split(/\s+/).filter((w) => w !== ''),
  ];
  for (const spec of importsIn(words)) {
    const bare = spec.replace(/^["']|["']$/g, '');
    if (bare === 'h13/guard') return true;
    try {
      if (new URL(bare, cwdUrl).href === self) return true;
    } catch {
      // not a path or URL
    }
  }
  return false;
}
