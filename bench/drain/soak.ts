/**
 * The soak: bare and drain side by side, each paced at the same rate for many minutes, RSS
 * of both sampled on a period. "Flat" compares means rather than two single samples, because
 * RSS moves with GC cycles and SQLite's page cache: after a warm-up (heap, caches and the
 * analyzer reaching their working size), the last third's mean RSS is compared with the first
 * third's. A leak of a line's worth per batch shows as growth that keeps going; a cache that
 * fills once does not. With `--trace-gc` the drain runs with Node's flag of that name, and
 * each sample also shows its JS heap after the last full GC, live and committed: whether a
 * rise is live data or V8 keeping more memory at hand.
 */

import { readFileSync } from 'node:fs';
import type { Spawned } from '../../test/helpers/process.js';
import { median, paced, pct } from './load.js';

/** Growth of the last third over the first third still called flat. */
export const FLAT_GROWTH = 0.1;

export interface Started {
  readonly proc: Spawned;
  readonly url: string;
  stop(): Promise<void>;
}

export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? Number.NaN : Number(m[1]) / 1024;
}

/** CPU seconds (user + system, every thread) the process has used so far. */
export function cpuSeconds(pid: number): number {
  // /proc/PID/stat: fields after the command's closing parenthesis; utime and stime are the
  // 12th and 13th of those, in clock ticks (100 per second on Linux).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/**
 * Live and committed V8 heap after the last full GC, from the `--trace-gc` lines a process
 * printed (`Mark-Compact 46.0 (144.3) -> 13.1 (144.3) MB`); undefined without them.
 */
export function lastFullGc(output: string): { liveMiB: number; committedMiB: number } | undefined {
  const at = output.lastIndexOf('Mark-Compact');
  if (at < 0) return undefined;
  const m = /-> ([\d.]+) \(([\d.]+)\) MB/.exec(output.slice(at, at + 200));
  return m === null ? undefined : { liveMiB: Number(m[1]), committedMiB: Number(m[2]) };
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export interface Verdict {
  readonly firstMiB: number;
  readonly lastMiB: number;
  readonly growth: number;
  readonly flat: boolean;
}

/** Samples taken after the warm-up, split in thirds. */
export function flatness(samples: readonly number[]): Verdict {
  const third = Math.max(1, Math.floor(samples.length / 3));
  const firstMiB = mean(samples.slice(0, third));
  const lastMiB = mean(samples.slice(-third));
  const growth = lastMiB / firstMiB - 1;
  return { firstMiB, lastMiB, growth, flat: growth <= FLAT_GROWTH };
}

export interface SoakOptions {
  readonly minutes: number;
  readonly sampleEverySeconds: number;
  readonly warmupSeconds: number;
  readonly linesPerSecond: number;
}

export async function soak(
  targets: { bare: Started; drain: Started },
  o: SoakOptions,
): Promise<void> {
  const seconds = o.minutes * 60;
  console.log(
    `node ${process.version}; soak ${o.minutes} min, bare and drain side by side, each paced at ${o.linesPerSecond} lines/s; RSS every ${o.sampleEverySeconds} s, warm-up ${o.warmupSeconds} s; "flat": last third's mean within ${FLAT_GROWTH * 100} % of the first third's`,
  );
  const names = ['bare', 'drain'] as const;
  const acks = { bare: [] as number[], drain: [] as number[] };
  const rss = { bare: [] as number[], drain: [] as number[] };
  const t0 = Date.now();
  const sampler = setInterval(() => {
    const at = Math.round((Date.now() - t0) / 1000);
    const row = names.map((n) => {
      const mib = rssMiB(targets[n].proc.child.pid as number);
      if (at >= o.warmupSeconds) rss[n].push(mib);
      const gc = lastFullGc(targets[n].proc.stdout());
      const heap =
        gc === undefined
          ? ''
          : ` (JS heap after full GC ${gc.liveMiB.toFixed(1)}, committed ${gc.committedMiB.toFixed(1)})`;
      return `${n} ${mib.toFixed(1)}${heap}`;
    });
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
    console.log(
      `t=${String(at).padStart(5)} s RSS MiB ${row.join(', ')}${at < o.warmupSeconds ? ' (warm-up)' : ''}; load ${load}`,
    );
  }, o.sampleEverySeconds * 1000);
  try {
    await Promise.all(
      names.map((n) =>
        paced(targets[n].url, seconds, o.linesPerSecond, (ms) => void acks[n].push(ms), 'soak'),
      ),
    );
  } finally {
    clearInterval(sampler);
  }
  console.log('');
  for (const n of names) {
    const a = acks[n].sort((x, y) => x - y);
    const v = flatness(rss[n]);
    console.log(
      `${n}: ${a.length} batches acknowledged, ack p50 ${pct(a, 50).toFixed(2)} ms p99 ${pct(a, 99).toFixed(2)} ms; RSS after warm-up: first third mean ${v.firstMiB.toFixed(1)} MiB, last third ${v.lastMiB.toFixed(1)} MiB (${v.growth >= 0 ? '+' : ''}${(v.growth * 100).toFixed(1)} %), median ${median(rss[n]).toFixed(1)}, max ${Math.max(...rss[n]).toFixed(1)}: ${v.flat ? 'flat' : 'NOT flat'}`,
    );
  }
}
