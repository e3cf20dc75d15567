/**
 * npm run score:real — how right `h13 analyze` is on the real-log corpus
 * (test/data/analyze/real): per-code right / partial / wrong / not read, the totals, the
 * platform errors counted, and every miss with file:line, expected and got.
 * `--record` writes the current levels to recorded.json (the floor real-corpus.test.ts enforces).
 */

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  type CorpusScore,
  corpusProblems,
  levelsOf,
  loadExpectations,
  scoreCorpus,
  type Tally,
} from './score-real-core.js';

/** The corpus in the source tree (data files are not compiled into build/). */
const DIR = fileURLToPath(new URL('../../test/data/analyze/real/', import.meta.url));

function pct(n: number, of: number): string {
  return of === 0 ? '-' : `${((n / of) * 100).toFixed(1)}%`;
}

function row(label: string, t: Tally): string {
  return [
    label.padEnd(6),
    String(t.total).padStart(5),
    String(t.right).padStart(6),
    String(t.partial).padStart(8),
    String(t.wrong).padStart(6),
    String(t.notRead).padStart(9),
    pct(t.right, t.total).padStart(8),
  ].join(' ');
}

/** Control characters of published lines never reach the terminal raw. */
function clean(s: string): string {
  return s.replace(
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function print(s: CorpusScore): void {
  const out: string[] = [];
  out.push('h13 analyze on the real-log corpus (test/data/analyze/real)');
  out.push('');
  out.push('code   lines  right  partial  wrong  not read  right %');
  for (const [code, t] of s.byCode) out.push(row(code, t));
  out.push(row('total', s.totals));
  out.push(
    `right or partial: ${pct(s.totals.right + s.totals.partial, s.totals.total)}` +
      `   platform errors counted: ${s.platformCounted}/${s.platformExpected}`,
  );
  const misses = s.lines.filter((l) => l.outcome !== 'right');
  if (misses.length > 0) {
    out.push('');
    out.push('misses (file:line code: expected [partial] -> got):');
    for (const m of misses) {
      const e = m.expected;
      const want = `${e.cause}${e.partial.length > 0 ? ` [${e.partial.join(', ')}]` : ''}`;
      const got =
        m.got === null
          ? 'not read'
          : `${m.got.cause} (${m.got.confidence}): ${clean(m.got.reason).slice(0, 160)}`;
      out.push(`  ${m.outcome.padEnd(8)} ${e.file}:${e.line} ${e.code}: ${want} -> ${got}`);
      if (m.note !== '' && !m.note.startsWith('matched by')) out.push(`           (${m.note})`);
    }
  }
  const platformMisses = s.platform.filter((p) => p.counted < p.expected);
  if (platformMisses.length > 0) {
    out.push('');
    out.push('platform errors not counted (file code: counted/expected):');
    for (const p of platformMisses) out.push(`  ${p.file} ${p.code}: ${p.counted}/${p.expected}`);
  }
  if (s.extra.length > 0) {
    out.push('');
    out.push('diagnoses matching no expected line:');
    for (const x of s.extra) {
      out.push(
        `  ${x.file}: ${x.diagnosis.code} ${x.diagnosis.cause} ${clean(x.diagnosis.line).slice(0, 100)}`,
      );
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

async function main(): Promise<number> {
  const problems = corpusProblems(DIR, loadExpectations(DIR));
  if (problems.length > 0) {
    process.stderr.write(`score:real: the corpus has problems:\n  ${problems.join('\n  ')}\n`);
    return 2;
  }
  const score = await scoreCorpus(DIR);
  print(score);
  if (process.argv.includes('--record')) {
    const levels = levelsOf(score);
    writeFileSync(`${DIR}recorded.json`, `${JSON.stringify(levels, null, 2)}\n`);
    process.stdout.write(`recorded: ${JSON.stringify(levels)}\n`);
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`score:real: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
