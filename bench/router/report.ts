/**
 * The router benchmark's table: per contender the median and [min–max] over rounds, and the
 * ratios the targets are stated in, each computed within a round (router and peer measured
 * minutes apart would fold machine-load drift into the ratio) and then summarised.
 */

import type { LoadResult } from './load.js';

export interface Target {
  readonly name: string;
  readonly url: string;
  /** The proxy's pid for CPU accounting; null for `direct`. */
  readonly pid: number | null;
}

export interface Sample {
  readonly round: number;
  readonly target: string;
  readonly many: LoadResult;
  readonly one: LoadResult;
  /** CPU µs per request of the proxy process (nginx: master + worker). */
  readonly proxyUs: number;
  readonly appUs: number;
}

export const fmt = (n: number, d = 0): string => (Number.isFinite(n) ? n.toFixed(d) : '-');

function median(values: readonly number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1
    ? (v[mid] as number)
    : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

/** `median [min–max]` */
function spread(values: readonly number[], d = 0): string {
  const v = values.filter(Number.isFinite);
  if (v.length === 0) return '-';
  return `${fmt(median(v), d)} [${fmt(Math.min(...v), d)}–${fmt(Math.max(...v), d)}]`;
}

export function report(
  samples: readonly Sample[],
  targets: readonly Target[],
  connections: number,
): void {
  const of = (name: string) => samples.filter((s) => s.target === name);
  console.log('');
  console.log(
    `${'target'.padEnd(11)} ${`req/s @${connections}`.padEnd(22)} ${'p50 ms'.padEnd(7)} ${'p99 ms'.padEnd(7)} ` +
      `${'proxy µs/req'.padEnd(13)} ${'app µs/req'.padEnd(11)} p50 ms @1`,
  );
  for (const t of targets) {
    const s = of(t.name);
    console.log(
      `${t.name.padEnd(11)} ${spread(s.map((x) => x.many.rps)).padEnd(22)} ` +
        `${fmt(median(s.map((x) => x.many.p50Ms)), 2).padEnd(7)} ${fmt(median(s.map((x) => x.many.p99Ms)), 2).padEnd(7)} ` +
        `${(t.pid === null ? '-' : fmt(median(s.map((x) => x.proxyUs)), 1)).padEnd(13)} ` +
        `${fmt(median(s.map((x) => x.appUs)), 1).padEnd(11)} ${spread(
          s.map((x) => x.one.p50Ms),
          3,
        )}`,
    );
  }
  const perRound = (a: string, b: string, f: (x: Sample, y: Sample) => number): number[] => {
    const out: number[] = [];
    for (const x of of(a)) {
      const y = of(b).find((s) => s.round === x.round);
      if (y !== undefined) out.push(f(x, y));
    }
    return out;
  };
  const rps = (x: Sample, y: Sample) => x.many.rps / y.many.rps;
  const cpu = (x: Sample, y: Sample) => y.proxyUs / x.proxyUs;
  console.log('');
  console.log('ratios, median [min–max] of per-round ratios:');
  console.log(
    `  router / direct     req/s @${connections}: ${spread(perRound('h13 router', 'direct', rps), 2)}`,
  );
  console.log(
    `  router / http-proxy req/s @${connections}: ${spread(perRound('h13 router', 'http-proxy', rps), 2)} (target >= 2.5)`,
  );
  if (targets.some((t) => t.name === 'nginx')) {
    console.log(
      `  router / nginx      req/s @${connections}: ${spread(perRound('h13 router', 'nginx', rps), 2)} (target >= 0.75)`,
    );
  }
  if (targets.some((t) => t.name === 'node floor')) {
    console.log(
      `  node floor / http-proxy req/s @${connections}: ${spread(perRound('node floor', 'http-proxy', rps), 2)} ` +
        '(the most any node:net proxy reaches here)',
    );
  }
  if (targets.some((t) => t.name === 'router base')) {
    console.log(
      `  router / router base req/s @${connections}: ${spread(perRound('h13 router', 'router base', rps), 2)}`,
    );
  }
  console.log(
    `  proxy CPU per request, http-proxy / router: ${spread(perRound('h13 router', 'http-proxy', cpu), 2)}` +
      (targets.some((t) => t.name === 'nginx')
        ? `; nginx / router: ${spread(perRound('h13 router', 'nginx', cpu), 2)}`
        : ''),
  );
  console.log(
    `  router added median latency @1: ${spread(
      perRound('h13 router', 'direct', (x, y) => x.one.p50Ms - y.one.p50Ms),
      3,
    )} ms (target <= 0.15)`,
  );
}
