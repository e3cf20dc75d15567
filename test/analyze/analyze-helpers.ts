import { fileURLToPath } from 'node:url';
import { type AnalysisResult, Analyzer, type AnalyzerOptions } from '../../src/analyze/analyzer.js';
import { createFeeder, drain, openInput } from '../../src/analyze/input.js';
import type { Diagnosis } from '../../src/analyze/types.js';

/** test/data/analyze/<name> (the source tree: data files are not compiled). */
export function dataFile(name: string): string {
  return fileURLToPath(new URL(`../../../test/data/analyze/${name}`, import.meta.url));
}

/** Papertrail lines carry no year: tests pin "now" so the fixtures land in 2026. */
export const NOW_2026 = Date.parse('2026-06-01T00:00:00Z');

export interface Analysed {
  readonly result: AnalysisResult;
  readonly diagnoses: Diagnosis[];
}

export async function analyzeFile(name: string, options: AnalyzerOptions = {}): Promise<Analysed> {
  const diagnoses: Diagnosis[] = [];
  const analyzer = new Analyzer({
    nowMs: NOW_2026,
    ...options,
    onDiagnosis: (d) => diagnoses.push(d),
  });
  const { stream } = await openInput(dataFile(name));
  await drain(stream, createFeeder(analyzer));
  return { result: analyzer.finish(), diagnoses };
}

export function analyzeText(text: string, options: AnalyzerOptions = {}): Analysed {
  const diagnoses: Diagnosis[] = [];
  const analyzer = new Analyzer({
    nowMs: NOW_2026,
    ...options,
    onDiagnosis: (d) => diagnoses.push(d),
  });
  const feeder = createFeeder(analyzer);
  feeder.write(Buffer.from(text));
  feeder.end();
  return { result: analyzer.finish(), diagnoses };
}

/** `H13 app-crash` strings, sorted, for comparing what was found with what was expected. */
export function verdicts(diagnoses: readonly Diagnosis[]): string[] {
  return diagnoses.map((d) => `${d.code} ${d.cause}`).sort();
}

/** Seeded PRNG (mulberry32): failures reproduce. */
export { seededRandom as rng } from '../helpers/random.js';
