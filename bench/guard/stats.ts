/**
 * The benchmark's arithmetic: medians and ranges of raw figures, and of ratios against the
 * bare server measured in the same round (paired), which cancels most of the drift that other
 * load on a shared machine causes between rounds. The paired ratios also get a mean and its
 * 95 % confidence interval: the median and range show how a run scattered, but whether a
 * point or two is real needs an estimate whose uncertainty shrinks with the number of rounds.
 */

export interface Measure {
  readonly rps: number;
  /** Server CPU (user + system) per request, microseconds. */
  readonly cpuUs: number;
  /**
   * The user-space part: the guard's work is all there, while the system part (loopback TCP,
   * most of a tiny request's cost) moves with the kernel's batching from round to round.
   */
  readonly userUs: number;
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface MeanCi {
  readonly mean: number;
  /** Half-width of the 95 % interval; undefined with one value, which shows no scatter. */
  readonly half: number | undefined;
}

export interface Summary {
  readonly rps: Spread;
  readonly cpuUs: Spread;
  /** variant / bare of the same round, minus 1. */
  readonly rpsVsBare: Spread;
  readonly cpuVsBare: Spread;
  readonly userVsBare: Spread;
  /** The same paired ratios, their mean and its interval. */
  readonly rpsVsBareMean: MeanCi;
  readonly cpuVsBareMean: MeanCi;
  readonly userVsBareMean: MeanCi;
}

export function spread(xs: readonly number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length / 2;
  const median =
    s.length % 2 === 1
      ? (s[Math.floor(mid)] as number)
      : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { median, min: s[0] as number, max: s[s.length - 1] as number };
}

/**
 * The 0.975 quantile of Student's t (a two-sided 95 % interval) for 1 to 30 degrees of
 * freedom, then 40, 60 and 120: the usual printed table (NIST/SEMATECH e-Handbook of
 * Statistical Methods, 1.3.6.7.2, "Critical values of the Student's t distribution"), the same
 * to three decimals as scipy.stats.t.ppf(0.975, df).
 */
const T975_TO_30 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];
const T975_ABOVE_30: readonly (readonly [df: number, t: number])[] = [
  [40, 2.021],
  [60, 2.0],
  [120, 1.98],
];

/**
 * Between the table's rows the quantile of the row below is taken: it is the larger one, so
 * the interval errs on the wide side, by about 1 % at most. Past 120 the normal 1.96, which
 * errs on the narrow side by about as much.
 */
export function t975(df: number): number {
  if (df < 1) throw new Error("Student's t needs at least one degree of freedom");
  if (df <= T975_TO_30.length) return T975_TO_30[df - 1] as number;
  let t = T975_TO_30[T975_TO_30.length - 1] as number;
  for (const [rowDf, rowT] of T975_ABOVE_30) if (df >= rowDf) t = rowT;
  return df > 120 ? 1.96 : t;
}

/**
 * The mean and the half-width of its 95 % confidence interval by Student's t, rather than a
 * bootstrap: runs have from a handful to a few dozen rounds, where a percentile bootstrap's
 * interval comes out too narrow (it cannot resample a tail the few rounds did not show), and
 * t needs no random seed, so a report depends on its figures alone. t assumes independent
 * rounds with roughly normal scatter; rounds are independent only when each has its own
 * processes, which is why kept servers' intervals are too narrow.
 */
export function meanCi(xs: readonly number[]): MeanCi {
  const n = xs.length;
  const mean = xs.reduce((a, x) => a + x, 0) / n;
  if (n < 2) return { mean, half: undefined };
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
  return { mean, half: (t975(n - 1) * Math.sqrt(variance)) / Math.sqrt(n) };
}

export function summarize(runs: readonly Measure[], bare: readonly Measure[]): Summary {
  const ratios = (pick: (m: Measure) => number) =>
    runs.map((m, i) => pick(m) / pick(bare[i] as Measure) - 1);
  const rpsRatios = ratios((m) => m.rps);
  const cpuRatios = ratios((m) => m.cpuUs);
  const userRatios = ratios((m) => m.userUs);
  return {
    rps: spread(runs.map((m) => m.rps)),
    cpuUs: spread(runs.map((m) => m.cpuUs)),
    rpsVsBare: spread(rpsRatios),
    cpuVsBare: spread(cpuRatios),
    userVsBare: spread(userRatios),
    rpsVsBareMean: meanCi(rpsRatios),
    cpuVsBareMean: meanCi(cpuRatios),
    userVsBareMean: meanCi(userRatios),
  };
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

function cell(s: Spread, format: (x: number) => string, width: number): string {
  return `${format(s.median)} [${format(s.min)}…${format(s.max)}]`.padEnd(width);
}

export function formatRow(variant: string, s: Summary): string {
  const rps = (x: number) => x.toFixed(0);
  const us = (x: number) => x.toFixed(2);
  return (
    variant.padEnd(16) +
    cell(s.rps, rps, 23) +
    cell(s.rpsVsBare, pct, 26) +
    cell(s.cpuUs, us, 25) +
    cell(s.cpuVsBare, pct, 26) +
    cell(s.userVsBare, pct, 26)
  ).trimEnd();
}

function ciCell(e: MeanCi, width: number): string {
  const interval = e.half === undefined ? '' : ` [${pct(e.mean - e.half)}…${pct(e.mean + e.half)}]`;
  return `${pct(e.mean)}${interval}`.padEnd(width);
}

/** A row of the second table: the paired ratios' means, each with its 95 % interval. */
export function formatMeanRow(variant: string, s: Summary): string {
  return (
    variant.padEnd(16) +
    ciCell(s.rpsVsBareMean, 26) +
    ciCell(s.cpuVsBareMean, 26) +
    ciCell(s.userVsBareMean, 26)
  ).trimEnd();
}
