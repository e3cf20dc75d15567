/**
 * The load generator for the router benchmark: wrk (one thread, pinned like every other
 * process) when installed, otherwise autocannon in-process. Returns req/s, latency
 * percentiles and the request count, which the caller divides CPU time by.
 */

import { execFileSync } from 'node:child_process';
import { pinned, which } from './processes.js';

export interface LoadResult {
  readonly rps: number;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Non-2xx answers and socket errors wrk reported (0 in a clean run). */
  readonly errors: number;
}

export const LOAD_TOOL = which('wrk') !== null ? 'wrk' : 'autocannon';

function wrk(cpus: string | null, url: string, connections: number, seconds: number): LoadResult {
  const [cmd, args] = pinned(cpus, 'wrk', [
    '-t1',
    `-c${connections}`,
    `-d${seconds}s`,
    '--latency',
    `${url}/`,
  ]);
  const out = execFileSync(cmd, args, { encoding: 'utf8' });
  const unit = (v: string, u: string) =>
    Number(v) * (u === 'us' ? 0.001 : u === 's' ? 1000 : u === 'm' ? 60_000 : 1);
  const p = (pct: string) => {
    const m = new RegExp(`\\s${pct}%\\s+([\\d.]+)(us|ms|s|m)`).exec(out);
    return m === null ? Number.NaN : unit(m[1] as string, m[2] as string);
  };
  let errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (socket !== null) errors += socket.slice(1).reduce((a, b) => a + Number(b), 0);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? Number.NaN),
    p50Ms: p('50'),
    p99Ms: p('99'),
    errors,
  };
}

async function autocannon(url: string, connections: number, seconds: number): Promise<LoadResult> {
  const moduleName = 'autocannon'; // untyped package: loaded by name
  const { default: run } = (await import(moduleName)) as {
    default: (o: object) => Promise<{
      requests: { average: number; total: number };
      latency: { p50: number; p99: number };
      non2xx: number;
      errors: number;
    }>;
  };
  const r = await run({ url, connections, duration: seconds });
  return {
    rps: r.requests.average,
    requests: r.requests.total,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.non2xx + r.errors,
  };
}

export function load(
  cpus: string | null,
  url: string,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  return LOAD_TOOL === 'wrk'
    ? Promise.resolve(wrk(cpus, url, connections, seconds))
    : autocannon(url, connections, seconds);
}
