/** What the analyzer produces: one diagnosis per router error (or guard line), the input stats. */

import type { CauseId, Confidence } from './causes.js';
import type { Evidence } from './evidence.js';
import { emptyFormatCounts } from './formats/index.js';

export interface Diagnosis {
  readonly code: string;
  readonly cause: CauseId;
  readonly confidence: Confidence;
  readonly reason: string;
  /** Epoch microseconds of the router line. */
  readonly micros: number;
  readonly dyno: string | null;
  readonly method: string;
  readonly path: string;
  readonly route: string;
  readonly requestId: string | null;
  readonly serviceMs: number | null;
  readonly status: number | null;
  readonly bytes: number | null;
  readonly protocol: string | null;
  /** The router line (or the guard line when there was no router line). */
  readonly line: string;
  readonly evidence: readonly Evidence[];
  /** Stack frames among the evidence, normalised. */
  readonly frames: readonly string[];
  /** True when only the guard's line was seen (app-side logs without the router's). */
  readonly guardOnly: boolean;
  /** The router line was cut short: what it lost (method, path, timings) is unknown. */
  readonly cut: boolean;
}

export interface InputStats {
  bytes: number;
  /** Physical lines read, blank ones included. */
  lines: number;
  blank: number;
  /** Entries: non-blank lines plus the extra frames found inside drain lines. */
  records: number;
  parsed: number;
  /** records = parsed + unparsed. Includes oversized lines. */
  unparsed: number;
  oversized: number;
  truncatedFrames: number;
  /** Records read in each format (formats/index.ts). */
  formats: Record<string, number>;
  /** Router error lines cut short (read as far as they went; their diagnoses say `cut`). */
  cutLines: number;
  /** Physical lines joined to the router line a paste had wrapped. */
  joinedLines: number;
  /** Lines without a time of their own before any time was read (placed in input order). */
  untimed: number;
  routerLines: number;
  routerErrors: number;
  /** R10, R12, R13, R14, R15 and L10 lines (platform-errors.ts). */
  platformErrors: number;
  appLines: number;
  platformLines: number;
  /** Up to MAX_SAMPLES unparsed lines, escaped and cut. */
  unparsedSamples: string[];
  /** Inputs that ended early (a gzip cut short or followed by garbage): name and why. */
  truncatedInputs: string[];
  /** Pending diagnoses decided early because too many were waiting. */
  forcedEarly: number;
  firstMicros: number;
  lastMicros: number;
}

/**
 * Times below this (one day after the epoch) are places in the input, not times: lines of a
 * paste without timestamps, before any time was read. Reports show no time for them.
 */
export const UNTIMED_US = 86_400_000_000;

/** Stats before the first byte. */
export function emptyStats(): InputStats {
  return {
    bytes: 0,
    lines: 0,
    blank: 0,
    records: 0,
    parsed: 0,
    unparsed: 0,
    oversized: 0,
    truncatedFrames: 0,
    formats: emptyFormatCounts(),
    cutLines: 0,
    joinedLines: 0,
    untimed: 0,
    routerLines: 0,
    routerErrors: 0,
    platformErrors: 0,
    appLines: 0,
    platformLines: 0,
    unparsedSamples: [],
    truncatedInputs: [],
    forcedEarly: 0,
    firstMicros: Number.NaN,
    lastMicros: Number.NaN,
  };
}
