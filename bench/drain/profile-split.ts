/**
 * Where a drain's CPU went, from the `.cpuprofile` files `ingest.js --cpu-prof DIR` leaves:
 * self time per category (the function or script a sample landed in, first rule that
 * matches) and the heaviest functions.
 *
 *   node build/bench/drain/profile-split.js FILE.cpuprofile [...]
 */

import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: number[];
}

interface Profile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

/** Category by the function's name or script; the first rule that matches wins. */
const RULES: ReadonlyArray<readonly [string, (fn: string, url: string) => boolean]> = [
  // node:sqlite's native calls do not appear in a profile: their time is the JS caller's.
  ['sqlite: BEGIN/COMMIT (fsync)', (fn, url) => fn === 'tx' && /drain\/sqlite-store/.test(url)],
  [
    'sqlite: row inserts',
    (fn, url) => /^(ingestOne|insertLines)$/.test(fn) && /drain\/sqlite-store/.test(url),
  ],
  [
    'store: other',
    (_, url) => /drain\/(sqlite-store|store-worker|worker-store|group-commit)/.test(url),
  ],
  [
    'frames → lines (drain parsing)',
    (_, url) =>
      /drain\/(octet-frames|syslog-line|body-lines|line-facts|ingest-formats|frame-fields)\.js/.test(
        url,
      ),
  ],
  ['pg: ingest (pg-ingest.ts)', (_, url) => /drain\/pg-ingest/.test(url)],
  [
    'pg: analysis reads (pg-analysis, pg-store)',
    (_, url) => /drain\/pg-(analysis|store)/.test(url),
  ],
  [
    'pg: driver (pg, pg-protocol)',
    (_, url) => /node_modules\/(pg|pg-protocol|pg-types|pg-pool)\//.test(url),
  ],
  ['heroku-log (timestamps, formatting)', (_, url) => /core\/heroku-log/.test(url)],
  ['analyzer', (_, url) => /\/analyze\//.test(url)],
  ['drain: other', (_, url) => /\/drain\//.test(url)],
  [
    'node: http, streams, net',
    (_, url) => /node:(_http|http|net|stream|internal\/(streams|http|net))/.test(url),
  ],
  ['GC', (fn) => fn === '(garbage collector)'],
  ['idle', (fn) => fn === '(idle)' || fn === '(program)'],
  ['node: other', (_, url) => url.startsWith('node:')],
  ['native / other', () => true],
];

function split(path: string): void {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const cats = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  let busy = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (n === undefined) continue;
    const { functionName: fn, url, lineNumber } = n.callFrame;
    const cat = (RULES.find(([, test]) => test(fn, url)) as (typeof RULES)[number])[0];
    cats.set(cat, (cats.get(cat) ?? 0) + us);
    total += us;
    if (cat !== 'idle') busy += us;
    const key = `${fn || '(anonymous)'} ${url.replace(/^.*\/build\//, '')}:${lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  console.log(`${path}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy`);
  for (const [cat, us] of [...cats].sort((a, b) => b[1] - a[1]))
    console.log(
      `  ${((100 * us) / busy).toFixed(1).padStart(5)} % of busy  ${cat}${cat === 'idle' ? ' (not in the %)' : ''}`,
    );
  console.log('  heaviest functions (self time, % of busy):');
  for (const [key, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, 15))
    console.log(`  ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${key}`);
}

for (const path of process.argv.slice(2)) split(path);
