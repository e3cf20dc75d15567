/**
 * Scores `h13 analyze` on the real-log corpus (test/data/analyze/real): every router error line
 * that people published is matched to the diagnosis the analyzer gave it, and the cause named is
 * compared with the cause written in expectations.json before the analyzer ever read the group.
 * The analyzer is run the way the CLI runs it (openInput → feeder → Analyzer → buildReport), with
 * every diagnosis collected, since the JSON report keeps only a few samples per group.
 * Used by scripts/score-real.ts (npm run score:real) and test/analyze/real-corpus.test.ts.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Analyzer } from '../src/analyze/analyzer.js';
import { CAUSE_IDS } from '../src/analyze/causes.js';
import { createFeeder, drain } from '../src/analyze/input.js';
import { openInput } from '../src/analyze/read-chunks.js';
import { buildReport, type ReportJson } from '../src/analyze/report.js';
import type { Diagnosis } from '../src/analyze/types.js';

/** Cause ids an expectation may name: the analyzer's, plus those issue 15 adds. */
export const EXPECTABLE_CAUSES: ReadonlySet<string> = new Set<string>([
  ...CAUSE_IDS,
  'handler-never-answered',
  'main-process-exit',
  'worker-died',
]);

/** Platform errors the report must count (issue 15: first-class R10/R12/R13/R14/R15/L10). */
export const PLATFORM_CODES: ReadonlySet<string> = new Set([
  'R10',
  'R12',
  'R13',
  'R14',
  'R15',
  'L10',
]);

/** Papertrail lines carry no year; pinning "now" keeps a run reproducible. */
export const SCORE_NOW_MS = Date.parse('2026-06-01T00:00:00Z');

export interface GroupInfo {
  readonly file: string;
  readonly language: string;
  readonly framework: string;
}

export interface ExpectedError {
  readonly file: string;
  readonly line: number;
  readonly code: string;
  readonly cause: string;
  readonly partial: readonly string[];
  /** Lines of the group (other than the router line) holding the evidence; empty: none. */
  readonly evidenceLines: readonly number[];
  readonly evidence: string;
}

export interface ExpectedPlatform {
  readonly file: string;
  readonly line: number;
  readonly code: string;
}

export interface Expectations {
  readonly groups: readonly GroupInfo[];
  readonly errors: readonly ExpectedError[];
  readonly platform: readonly ExpectedPlatform[];
}

export type Outcome = 'right' | 'partial' | 'wrong' | 'not-read';

export interface LineScore {
  readonly expected: ExpectedError;
  readonly outcome: Outcome;
  /** What the analyzer said, when a diagnosis was matched to the line. */
  readonly got: Diagnosis | null;
  /** How the diagnosis was matched, or why the outcome is what it is. */
  readonly note: string;
}

export interface Tally {
  right: number;
  partial: number;
  wrong: number;
  notRead: number;
  total: number;
}

export interface PlatformScore {
  readonly file: string;
  readonly code: string;
  readonly expected: number;
  readonly counted: number;
}

export interface CorpusScore {
  readonly lines: readonly LineScore[];
  readonly byCode: ReadonlyMap<string, Tally>;
  readonly totals: Tally;
  readonly platform: readonly PlatformScore[];
  readonly platformExpected: number;
  readonly platformCounted: number;
  /** Diagnoses the analyzer gave that match no expected line (e.g. a line read twice). */
  readonly extra: readonly { file: string; diagnosis: Diagnosis }[];
}

export function loadExpectations(dir: string): Expectations {
  const parsed = JSON.parse(readFileSync(join(dir, 'expectations.json'), 'utf8')) as Expectations;
  return parsed;
}

/** Problems with the corpus itself: a test fails on any of them. */
export function corpusProblems(dir: string, exp: Expectations): string[] {
  const problems: string[] = [];
  const logs = readdirSync(dir).filter((f) => f.endsWith('.log'));
  const files = new Set(exp.groups.map((g) => g.file));
  for (const f of logs) if (!files.has(f)) problems.push(`${f}: no entry in groups`);
  for (const g of exp.groups) {
    if (!logs.includes(g.file)) problems.push(`${g.file}: listed but missing`);
    const source = join(dir, g.file.replace(/\.log$/, '.source.md'));
    let text = '';
    try {
      text = readFileSync(source, 'utf8');
    } catch {
      problems.push(`${g.file}: no .source.md`);
    }
    if (text !== '' && !/https?:\/\//.test(text)) problems.push(`${g.file}: source cites no URL`);
  }
  const lines = new Map<string, string[]>();
  const linesOf = (file: string): string[] => {
    let l = lines.get(file);
    if (l === undefined) {
      l = readFileSync(join(dir, file), 'utf8').split('\n');
      lines.set(file, l);
    }
    return l;
  };
  for (const e of exp.errors) {
    if (!files.has(e.file)) {
      problems.push(`${e.file}:${e.line}: file not in groups`);
      continue;
    }
    const text = linesOf(e.file)[e.line - 1] ?? '';
    if (!carriesCode(text, e.code)) problems.push(`${e.file}:${e.line}: line has no ${e.code}`);
    for (const c of [e.cause, ...e.partial]) {
      if (!EXPECTABLE_CAUSES.has(c)) problems.push(`${e.file}:${e.line}: unknown cause id ${c}`);
    }
    if (e.evidence.trim() === '') problems.push(`${e.file}:${e.line}: no evidence sentence`);
    const count = linesOf(e.file).length;
    for (const n of e.evidenceLines) {
      if (!Number.isInteger(n) || n < 1 || n > count || n === e.line) {
        problems.push(`${e.file}:${e.line}: evidence line ${n} is not another line of the group`);
      }
    }
  }
  for (const p of exp.platform) {
    const text = files.has(p.file) ? (linesOf(p.file)[p.line - 1] ?? '') : '';
    if (!PLATFORM_CODES.has(p.code) || !text.includes(`Error ${p.code} `)) {
      problems.push(`${p.file}:${p.line}: not a ${p.code} platform error`);
    }
  }
  // Every router error line and platform error line of every group must have its expectation.
  for (const g of exp.groups) {
    if (!logs.includes(g.file)) continue;
    linesOf(g.file).forEach((text, i) => {
      const router = /\bcode=(H\d\d)\b|\bError (H\d\d) \(/.exec(text);
      const code = router?.[1] ?? router?.[2];
      if (code !== undefined && !exp.errors.some((e) => e.file === g.file && e.line === i + 1)) {
        problems.push(`${g.file}:${i + 1}: ${code} line without an expectation`);
      }
      const platform = /\bError ([RL]1\d) \(/.exec(text)?.[1];
      if (
        platform !== undefined &&
        PLATFORM_CODES.has(platform) &&
        !exp.platform.some((p) => p.file === g.file && p.line === i + 1)
      ) {
        problems.push(`${g.file}:${i + 1}: ${platform} line without an expectation`);
      }
    });
  }
  return problems;
}

function carriesCode(text: string, code: string): boolean {
  return text.includes(`code=${code}`) || text.includes(`Error ${code} (`);
}

export interface GroupRun {
  readonly diagnoses: Diagnosis[];
  readonly report: ReportJson;
}

/** One group through the analyzer, exactly as `h13 analyze FILE` reads it. */
export async function analyzeGroup(path: string): Promise<GroupRun> {
  const diagnoses: Diagnosis[] = [];
  const analyzer = new Analyzer({ nowMs: SCORE_NOW_MS, onDiagnosis: (d) => diagnoses.push(d) });
  const { chunks } = await openInput(path);
  await drain(chunks, createFeeder(analyzer));
  const report = buildReport(analyzer.finish());
  return { diagnoses, report };
}

/** A line that starts a new log entry (so it is not the continuation of a wrapped one). */
const ENTRY_START =
  /^(?:\d{4}-\d\d-\d\d[T ]|\d+ <\d+>|<\d+>|[A-Z][a-z]{2} +\d+ \d\d:|\d\d? [A-Z][a-z]{2} \d{4} |» |at=|sock=|Error [HRL]\d\d|\$ )/;

/**
 * The published entry that starts at `line`: the line itself plus the lines a paste wrapped it
 * onto (those that do not start a new entry), joined without a separator, as a hard wrap cut them.
 */
export function entryAt(lines: readonly string[], line: number): string {
  let text = lines[line - 1] ?? '';
  for (let i = line; i < lines.length; i++) {
    const next = lines[i] ?? '';
    if (next.trim() === '' || ENTRY_START.test(next)) break;
    text += next;
  }
  return text;
}

/** The router fields of an entry, from the first `at=`/`sock=`/`Error Hnn` on. */
function routerPart(text: string): string {
  const m = /(?:sock=\w+ )?at=(?:error|warning|info)\b|Error H\d\d \(/.exec(text);
  return (m === null ? text : text.slice(m.index)).replace(/\s+/g, ' ').trim();
}

function field(text: string, name: string): string | null {
  const m = new RegExp(`(?:^|\\s)${name}=("([^"]*)"|\\S*)`).exec(text);
  if (m === null) return null;
  return m[2] ?? m[1] ?? null;
}

/** Epoch microseconds of an ISO-8601 timestamp at the start of the entry, or NaN. */
function entryMicros(text: string): number {
  const m = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d:?\d\d)?/.exec(text);
  if (m === null) return Number.NaN;
  const ms = Date.parse(`${m[1]}T${m[2]}${m[4] ?? 'Z'}`);
  const frac = (m[3] ?? '').padEnd(6, '0');
  return ms * 1000 + Number(frac);
}

/** A reason claiming the logs hold nothing (issue 15: wrong when the group holds evidence). */
const DENIES_EVIDENCE =
  /\bno (?:app )?(?:error|errors|evidence|stack trace|crash|crash or boot line)\b|\bnothing (?:near|logged|else)\b/i;

function outcomeOf(e: ExpectedError, d: Diagnosis): { outcome: Outcome; note: string } {
  if (e.evidenceLines.length > 0 && DENIES_EVIDENCE.test(d.reason)) {
    return { outcome: 'wrong', note: 'the reason denies evidence the group holds' };
  }
  if (d.cause === e.cause) return { outcome: 'right', note: '' };
  if (e.partial.includes(d.cause)) return { outcome: 'partial', note: '' };
  return { outcome: 'wrong', note: '' };
}

interface Candidate {
  readonly expected: ExpectedError;
  readonly entry: string;
  readonly requestId: string | null;
  readonly micros: number;
  readonly path: string | null;
}

/**
 * Pairs each expected line of a group with one diagnosis, most specific evidence first:
 * request id, then the router line's own text, then timestamp and code, then code and path,
 * then the code alone when exactly one of each is left.
 */
export function matchGroup(
  lines: readonly string[],
  expected: readonly ExpectedError[],
  diagnoses: readonly Diagnosis[],
): { scores: LineScore[]; extra: Diagnosis[] } {
  const cands: Candidate[] = expected.map((e) => {
    const entry = entryAt(lines, e.line);
    return {
      expected: e,
      entry,
      requestId: field(entry, 'request_id'),
      micros: entryMicros(entry),
      path: field(entry, 'path'),
    };
  });
  const used = new Set<Diagnosis>();
  const matched = new Map<Candidate, { d: Diagnosis; how: string }>();
  const pass = (how: string, fits: (c: Candidate, d: Diagnosis) => boolean, unique = false) => {
    for (const c of cands) {
      if (matched.has(c)) continue;
      const free = diagnoses.filter((d) => !used.has(d) && fits(c, d));
      if (free.length === 0 || (unique && free.length > 1)) continue;
      const d = free[0] as Diagnosis;
      used.add(d);
      matched.set(c, { d, how });
    }
  };
  const rids = new Map<string, number>();
  for (const c of cands) if (c.requestId) rids.set(c.requestId, (rids.get(c.requestId) ?? 0) + 1);
  pass(
    'request id',
    (c, d) => c.requestId !== null && rids.get(c.requestId) === 1 && d.requestId === c.requestId,
  );
  pass('router line', (c, d) => {
    const want = routerPart(c.entry);
    const got = routerPart(d.line);
    return (
      want !== '' && got !== '' && (want === got || want.startsWith(got) || got.startsWith(want))
    );
  });
  pass(
    'time and code',
    (c, d) =>
      Number.isFinite(c.micros) &&
      d.micros === c.micros &&
      d.code === c.expected.code &&
      (c.path === null || d.path === c.path),
  );
  pass(
    'code and path',
    (c, d) => d.code === c.expected.code && c.path !== null && d.path === c.path,
    true,
  );
  const left = (code: string) => cands.filter((c) => !matched.has(c) && c.expected.code === code);
  pass('code alone', (c, d) => d.code === c.expected.code && left(d.code).length === 1, true);
  const scores = cands.map((c): LineScore => {
    const m = matched.get(c);
    if (m === undefined) {
      return { expected: c.expected, outcome: 'not-read', got: null, note: 'no diagnosis' };
    }
    const { outcome, note } = outcomeOf(c.expected, m.d);
    const codeNote = m.d.code === c.expected.code ? '' : `diagnosed as ${m.d.code}; `;
    return {
      expected: c.expected,
      outcome,
      got: m.d,
      note: `${codeNote}${note === '' ? `matched by ${m.how}` : note}`,
    };
  });
  return { scores, extra: diagnoses.filter((d) => !used.has(d)) };
}

/** How many errors of `code` the report counts. Platform errors are expected in `totals.byCode`. */
export function countedInReport(report: ReportJson, code: string): number {
  return report.totals.byCode[code] ?? 0;
}

function emptyTally(): Tally {
  return { right: 0, partial: 0, wrong: 0, notRead: 0, total: 0 };
}

function add(t: Tally, o: Outcome): void {
  t.total++;
  if (o === 'right') t.right++;
  else if (o === 'partial') t.partial++;
  else if (o === 'wrong') t.wrong++;
  else t.notRead++;
}

export async function scoreCorpus(dir: string): Promise<CorpusScore> {
  const exp = loadExpectations(dir);
  const lines: LineScore[] = [];
  const extra: { file: string; diagnosis: Diagnosis }[] = [];
  const platform: PlatformScore[] = [];
  for (const g of exp.groups) {
    const path = join(dir, g.file);
    const run = await analyzeGroup(path);
    const text = readFileSync(path, 'utf8').split('\n');
    const mine = exp.errors.filter((e) => e.file === g.file);
    const { scores, extra: more } = matchGroup(text, mine, run.diagnoses);
    lines.push(...scores);
    for (const d of more) extra.push({ file: g.file, diagnosis: d });
    const want = new Map<string, number>();
    for (const p of exp.platform) {
      if (p.file === g.file) want.set(p.code, (want.get(p.code) ?? 0) + 1);
    }
    for (const [code, n] of want) {
      platform.push({
        file: g.file,
        code,
        expected: n,
        counted: Math.min(n, countedInReport(run.report, code)),
      });
    }
  }
  const byCode = new Map<string, Tally>();
  const totals = emptyTally();
  for (const s of lines) {
    let t = byCode.get(s.expected.code);
    if (t === undefined) {
      t = emptyTally();
      byCode.set(s.expected.code, t);
    }
    add(t, s.outcome);
    add(totals, s.outcome);
  }
  return {
    lines,
    byCode: new Map([...byCode.entries()].sort(([a], [b]) => a.localeCompare(b))),
    totals,
    platform,
    platformExpected: platform.reduce((n, p) => n + p.expected, 0),
    platformCounted: platform.reduce((n, p) => n + p.counted, 0),
    extra,
  };
}

/** The levels test/analyze/real-corpus.test.ts holds the analyzer to (recorded.json). */
export interface Levels {
  /** Share of expected lines fully right. */
  readonly right: number;
  /** Share right or partly right. */
  readonly rightOrPartial: number;
  /** Share wrong (a ceiling). */
  readonly wrong: number;
  /** Share of expected platform errors the report counts. */
  readonly platformCounted: number;
}

export function levelsOf(s: CorpusScore): Levels {
  const n = s.totals.total;
  const share = (x: number, of: number) => (of === 0 ? 0 : Math.floor((x / of) * 10000) / 10000);
  return {
    right: share(s.totals.right, n),
    rightOrPartial: share(s.totals.right + s.totals.partial, n),
    wrong: Math.ceil((n === 0 ? 0 : s.totals.wrong / n) * 10000) / 10000,
    platformCounted: share(s.platformCounted, s.platformExpected),
  };
}

/** Where the current levels fall short of the recorded ones (empty: none). */
export function shortfalls(now: Levels, recorded: Levels): string[] {
  const out: string[] = [];
  if (now.right < recorded.right) out.push(`right ${now.right} < recorded ${recorded.right}`);
  if (now.rightOrPartial < recorded.rightOrPartial) {
    out.push(`right or partial ${now.rightOrPartial} < recorded ${recorded.rightOrPartial}`);
  }
  if (now.wrong > recorded.wrong) out.push(`wrong ${now.wrong} > recorded ${recorded.wrong}`);
  if (now.platformCounted < recorded.platformCounted) {
    out.push(`platform counted ${now.platformCounted} < recorded ${recorded.platformCounted}`);
  }
  return out;
}
