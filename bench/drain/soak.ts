/**
 * The soak: bare and drain side by side, each paced at the same rate for many minutes, RSS
 * of both sampled on a period. "Flat" compares means rather than two single samples, because
 * RSS moves with GC cycles and SQLite's page cache: after a warm-up (heap, caches and the
 * analyzer reaching their working size), the last third's mean RSS is compared with the first
 * third's. A leak of a line's worth per batch shows as growth that keeps going; a cache that
 * fills once does not. With `--trace-gc` the drain runs with Node's flag of that name, and
 * each sample also shows its JS heap after the last full GC, live and committed: whether a
 * rise is live data or V8 keeping more memory at hand. The drain also carries
 * bench/drain/mem-probe.ts, and each sample places its memory: anonymous and file-backed RSS
 * (/proc/PID/smaps_rollup: a file-backed rise would be the SQLite database or WAL mapped in),
 * V8's committed heap, external memory (Buffers), V8's own malloc, and the anonymous rest,
 * which is SQLite's and the C allocator's (freed memory glibc keeps in its arenas included).
 */

import { readFileSync } from 'node:fs';
import type { Spawned } from '../../test/helpers/process.js';
import { median, PACED_BATCH, paced, pct } from './load.js';
import { MEM_PROBE_PREFIX, type MemProbe } from './mem-probe.js';

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

/** Anonymous and file-backed resident memory, from /proc/PID/smaps_rollup. */
export function rssSplitMiB(pid: number): { anonMiB: number; fileMiB: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1]);
  const anon = kb('Anonymous');
  return { anonMiB: anon / 1024, fileMiB: (kb('Rss') - anon) / 1024 };
}

/** The latest `h13-mem` line the process printed (bench/drain/mem-probe.ts). */
export function lastMemProbe(output: string): MemProbe | undefined {
  const at = output.lastIndexOf(MEM_PROBE_PREFIX);
  if (at < 0) return undefined;
  const end = output.indexOf('\n', at);
  if (end < 0) return undefined;
  return JSON.parse(output.slice(at + MEM_PROBE_PREFIX.length, end)) as MemProbe;
}

/** Where the memory sits in one sample, MiB. */
export interface MemSplit {
  readonly anon: number;
  readonly file: number;
  readonly v8Heap: number;
  /** Of v8Heap: the young generation (the two semi-spaces) and the old generation. */
  readonly newSpace: number;
  readonly oldSpace: number;
  readonly external: number;
  readonly v8Malloc: number;
  /** Anonymous memory that is none of the above: SQLite's, the allocator's, Node's own. */
  readonly nativeRest: number;
}

const MiB = 1024 * 1024;

export function memSplit(pid: number, probe: MemProbe): MemSplit {
  const { anonMiB, fileMiB } = rssSplitMiB(pid);
  const v8Heap = probe.heapPhysical / MiB;
  const external = probe.external / MiB;
  const v8Malloc = probe.mallocedMemory / MiB;
  return {
    anon: anonMiB,
    file: fileMiB,
    v8Heap,
    newSpace: (probe.spaces.new_space ?? 0) / MiB,
    oldSpace: (probe.spaces.old_space ?? 0) / MiB,
    external,
    v8Malloc,
    nativeRest: anonMiB - v8Heap - external - v8Malloc,
  };
}

const SPLIT_KEYS = [
  'anon',
  'file',
  'v8Heap',
  'newSpace',
  'oldSpace',
  'external',
  'v8Malloc',
  'nativeRest',
] as const;

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
  /** The drain's node flags (the Procfile's, or --node-flags), printed with the figures. */
  readonly drainNodeFlags: readonly string[];
}

export async function soak(
  targets: { bare: Started; drain: Started },
  o: SoakOptions,
): Promise<void> {
  const seconds = o.minutes * 60;
  console.log(
    `node ${process.version}; soak ${o.minutes} min, bare and drain side by side, each paced at ${o.linesPerSecond} lines/s; RSS every ${o.sampleEverySeconds} s, warm-up ${o.warmupSeconds} s; "flat": last third's mean within ${FLAT_GROWTH * 100} % of the first third's; drain node flags: ${o.drainNodeFlags.join(' ') || 'none'}`,
  );
  const names = ['bare', 'drain'] as const;
  const acks = { bare: [] as number[], drain: [] as number[] };
  const rss = { bare: [] as number[], drain: [] as number[] };
  const splits: MemSplit[] = [];
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
      const probe = lastMemProbe(targets[n].proc.stderr());
      let where = '';
      if (probe !== undefined) {
        const m = memSplit(targets[n].proc.child.pid as number, probe);
        if (at >= o.warmupSeconds) splits.push(m);
        where = ` [${SPLIT_KEYS.map((k) => `${k} ${m[k].toFixed(1)}`).join(' ')}]`;
      }
      return `${n} ${mib.toFixed(1)}${heap}${where}`;
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
  // paced() sends this many batches; one that failed (an error or a status other than 200)
  // has no acknowledgement.
  const sent = Math.round((seconds * o.linesPerSecond) / PACED_BATCH);
  for (const n of names) {
    const a = acks[n].sort((x, y) => x - y);
    if (a.length < sent)
      console.log(`${n}: ${sent - a.length} of ${sent} batches not acknowledged`);
    const v = flatness(rss[n]);
    console.log(
      `${n}: ${a.length} batches acknowledged, ack p50 ${pct(a, 50).toFixed(2)} ms p99 ${pct(a, 99).toFixed(2)} ms; RSS after warm-up: first third mean ${v.firstMiB.toFixed(1)} MiB, last third ${v.lastMiB.toFixed(1)} MiB (${v.growth >= 0 ? '+' : ''}${(v.growth * 100).toFixed(1)} %), median ${median(rss[n]).toFixed(1)}, max ${Math.max(...rss[n]).toFixed(1)}: ${v.flat ? 'flat' : 'NOT flat'}`,
    );
  }
  if (splits.length > 0) {
    const third = Math.max(1, Math.floor(splits.length / 3));
    const part = (xs: MemSplit[], k: (typeof SPLIT_KEYS)[number]) => mean(xs.map((x) => x[k]));
    console.log(
      `drain memory, first third → last third mean MiB: ${SPLIT_KEYS.map((k) => `${k} ${part(splits.slice(0, third), k).toFixed(1)} → ${part(splits.slice(-third), k).toFixed(1)}`).join(', ')}`,
    );
  }
}
