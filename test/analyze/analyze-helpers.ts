import { fileURLToPath } from 'node:url';
import { type AnalysisResult, Analyzer, type AnalyzerOptions } from '../../src/analyze/analyzer.js';
import { createFeeder, drain } from '../../src/analyze/input.js';
import { openInput } from '../../src/analyze/read-chunks.js';
import type { Diagnosis } from '../../src/analyze/types.js';
import type { RouterRecord } from '../../src/core/router-line.js';

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
  const { chunks } = await openInput(dataFile(name));
  await drain(chunks, createFeeder(analyzer));
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

/** A router error line's record (an H13 on web.1), with `over` changed. */
export function routerRecord(over: Partial<RouterRecord>): RouterRecord {
  return {
    at: 'error',
    code: 'H13',
    desc: null,
    cause: null,
    sock: null,
    method: 'GET',
    path: '/',
    host: 'demo.herokuapp.com',
    requestId: '5d3f2a10-6b8c-4e7f-9a01-2b3c4d5e6f70',
    fwd: '203.0.113.9',
    dyno: 'web.1',
    connectMs: 0,
    serviceMs: 10,
    status: 503,
    bytes: 0,
    protocol: 'https',
    tls: null,
    ...over,
  };
}

/** Seeded PRNG (mulberry32): failures reproduce. */
export { seededRandom as rng } from '../helpers/random.js';
