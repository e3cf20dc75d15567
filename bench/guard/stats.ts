/**
 * The benchmark's arithmetic: medians and ranges of raw figures, and of ratios against the
 * bare server measured in the same round (paired), which cancels most of the drift that other
 * load on a shared machine causes between rounds.
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

export interface Summary {
  readonly rps: Spread;
  readonly cpuUs: Spread;
  /** variant / bare of the same round, minus 1. */
  readonly rpsVsBare: Spread;
  readonly cpuVsBare: Spread;
  readonly userVsBare: Spread;
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

export function summarize(runs: readonly Measure[], bare: readonly Measure[]): Summary {
  const paired = (pick: (m: Measure) => number) =>
    spread(runs.map((m, i) => pick(m) / pick(bare[i] as Measure) - 1));
  return {
    rps: spread(runs.map((m) => m.rps)),
    cpuUs: spread(runs.map((m) => m.cpuUs)),
    rpsVsBare: paired((m) => m.rps),
    cpuVsBare: paired((m) => m.cpuUs),
    userVsBare: paired((m) => m.userUs),
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
