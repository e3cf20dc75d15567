/**
 * `h13 drain` ingest against a bare peer, same run, same batches (issue 17's benchmark,
 * SQLite store).
 *   bare   — bench/drain/bare-server.ts: reads the body, splits the frames, discards them
 *   drain  — `h13 drain` (built CLI): auth, frames to lines, committed to SQLite (WAL,
 *            synchronous=FULL) before the answer, one analyzer per app, diagnoses stored
 * Both run as child processes on the Node running this script. Rounds alternate bare/drain so
 * load from other work on the machine hits both alike; ratios are taken within a round.
 *
 *   node build/bench/drain/ingest.js [--seconds S] [--rounds N] [--concurrency C]
 *       [--cpu-prof DIR]
 *     flood: C senders (one app each) post 100 KiB batches back to back for S seconds:
 *     lines/s (and its ratio to bare) and acknowledgement latency
 *     paced: 5 000 lines/s in batches of 100 for S seconds: acknowledgement p50/p99
 *     RSS of each process after its round
 *     --cpu-prof DIR: the drain runs with `node --cpu-prof` (profiles in DIR, flood only);
 *     read them with `node build/bench/drain/profile-split.js DIR/*.cpuprofile`
 *     --compare BUILD: a third contender, `other`, the CLI of another build (BUILD/src/cli/
 *     main.js, e.g. an earlier commit built elsewhere), in the same rounds: a change's effect
 *     measured under the same load
 *
 *   node build/bench/drain/ingest.js --soak MINUTES [--sample-every S] [--warmup S] [--trace-gc]
 *     bare and drain side by side, each paced at 5 000 lines/s for MINUTES; RSS sampled every
 *     S seconds (default 10); verdict from the samples after the warm-up (default 60 s):
 *     "flat" when the last third's mean RSS is within 10 % of the first third's
 *     (bench/drain/soak.ts).
 *
 *   --node-flags "FLAGS" (with any of the above): the drain's node flags; by default those of
 *     the Procfile's web: line (bench/drain/deploy-flags.ts), '' for V8's defaults
 *   --other-node-flags "FLAGS": a third contender, `other`, this build (or --compare's) with
 *     these node flags instead, in the same rounds: a runtime setting measured under one load
 *
 *   --database-url URL (with any of the above): the drain keeps everything in that PostgreSQL
 *     instead of a new SQLite file (every round writes into the same database, which keeps
 *     what earlier rounds wrote)
 *   --compare-database-url URL: the database of `other` (--compare), when the two builds'
 *     schemas differ (an older build refuses a database migrated by a newer one)
 *   --server-pid PID: the PostgreSQL postmaster's pid; adds the server's CPU per line (all its
 *     processes) during the flood, which on a shared machine competes with the drain's
 */

import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnProcess } from '../../test/helpers/process.js';
import { nodeFlagsArg, webNodeFlags } from './deploy-flags.js';
import { flood, floodBatches, median, PACED_BATCH, PASSWORD, pacedPercentiles } from './load.js';
import { treeCpuSeconds } from './server-cpu.js';
import { cpuSeconds, rssMiB, type Started, soak } from './soak.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(args[i + 1]);
};
const stringArg = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? undefined : args[i + 1];
};
const SECONDS = arg('seconds', 5);
const ROUNDS = arg('rounds', 3);
const CONCURRENCY = arg('concurrency', 4);
const CPU_PROF = stringArg('cpu-prof');
const SOAK_MINUTES = arg('soak', 0);
const PACED_RATE = 5000;
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const COMPARE = stringArg('compare');
const PROCFILE = fileURLToPath(new URL('../../../Procfile', import.meta.url));
const DRAIN_FLAGS =
  nodeFlagsArg(stringArg('node-flags')) ?? webNodeFlags(readFileSync(PROCFILE, 'utf8'));
const OTHER_FLAGS = nodeFlagsArg(stringArg('other-node-flags'));
const DATABASE_URL = stringArg('database-url');
const COMPARE_DATABASE_URL = stringArg('compare-database-url') ?? DATABASE_URL;
const SERVER_PID = stringArg('server-pid');
const BARE = fileURLToPath(new URL('./bare-server.js', import.meta.url));
/** In the soak, the drain reports its own memory (bench/drain/mem-probe.ts) every second. */
const MEM_PROBE = new URL('./mem-probe.js', import.meta.url).href;

type Kind = 'bare' | 'drain' | 'other';
const KINDS: readonly Kind[] =
  COMPARE === undefined && OTHER_FLAGS === undefined
    ? ['bare', 'drain']
    : ['bare', 'drain', 'other'];

async function start(kind: Kind, dir: string, profile = false): Promise<Started> {
  const nodeArgs = [
    ...(kind === 'other' ? (OTHER_FLAGS ?? DRAIN_FLAGS) : kind === 'drain' ? DRAIN_FLAGS : []),
    ...(profile && CPU_PROF !== undefined ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : []),
  ];
  if (kind === 'drain' && SOAK_MINUTES > 0) {
    nodeArgs.push('--import', MEM_PROBE);
    if (args.includes('--trace-gc')) nodeArgs.push('--trace-gc');
  }
  const proc =
    kind === 'bare'
      ? spawnProcess(process.execPath, [BARE])
      : spawnProcess(
          process.execPath,
          [
            ...nodeArgs,
            kind === 'other' && COMPARE !== undefined ? join(COMPARE, 'src/cli/main.js') : CLI,
            'drain',
            '--port',
            '0',
            ...(DATABASE_URL === undefined
              ? ['--db', join(dir, `drain-${randomUUID()}.db`)]
              : [
                  '--database-url',
                  kind === 'other' ? (COMPARE_DATABASE_URL as string) : DATABASE_URL,
                ]),
            '--app-rate',
            '0',
          ],
          { env: { H13_DRAIN_PASSWORD: PASSWORD, DYNO: '', H13_MEM_PROBE_MS: '1000' } },
        );
  const m = await proc.waitFor(/listening on (http:\/\/\S+)/, 20_000);
  return {
    proc,
    url: m[1] as string,
    async stop() {
      // SIGTERM lets the drain close its store (and write a --cpu-prof profile).
      proc.child.kill('SIGTERM');
      await proc.exited(30_000).catch(() => proc.kill());
    },
  };
}

interface Round {
  flood: number;
  p50: number;
  p99: number;
  pacedP50: number;
  pacedP99: number;
  rss: number;
  /** CPU time of the process (all threads) per line during the flood. */
  cpuUsPerLine: number;
  /** The same for the PostgreSQL server (all its processes), with --server-pid. */
  serverUsPerLine: number;
}

const f1 = (n: number) => n.toFixed(1);

async function rounds(dir: string): Promise<void> {
  const lineBytes = (floodBatches[0]?.body.length ?? 0) / (floodBatches[0]?.lines ?? 1);
  console.log(
    `store ${DATABASE_URL === undefined ? 'SQLite' : 'PostgreSQL'}; node ${process.version}; ${SECONDS} s per run, ${ROUNDS} rounds, ${CONCURRENCY} senders; flood batches ${floodBatches[0]?.lines} lines (${floodBatches[0]?.body.length} bytes, ${lineBytes.toFixed(0)} bytes/line); paced ${PACED_RATE} lines/s in batches of ${PACED_BATCH}; drain node flags: ${DRAIN_FLAGS.join(' ') || 'none'}${OTHER_FLAGS === undefined ? '' : `; other: ${COMPARE ?? 'this build'}, node flags ${OTHER_FLAGS.join(' ') || 'none'}`}`,
  );
  const results: Record<Kind, Round[]> = { bare: [], drain: [], other: [] };
  for (let round = 0; round < ROUNDS; round++) {
    // The slot right after bare's run measured worse paced latency, the same build in both
    // slots included: with --compare, drain and other take turns in it.
    const order =
      round % 2 === 1 && KINDS.length === 3 ? (['bare', 'other', 'drain'] as const) : KINDS;
    for (const kind of order) {
      const s = await start(kind, dir, kind === 'drain');
      try {
        const pid = s.proc.child.pid as number;
        const serverCpu = () =>
          SERVER_PID === undefined ? Number.NaN : treeCpuSeconds(Number(SERVER_PID));
        const cpu0 = cpuSeconds(pid);
        const server0 = serverCpu();
        const f = await flood(s.url, SECONDS, CONCURRENCY);
        const flooded = f.linesPerSecond * f.seconds;
        const cpuUsPerLine = ((cpuSeconds(pid) - cpu0) * 1e6) / flooded;
        const serverUsPerLine = ((serverCpu() - server0) * 1e6) / flooded;
        const p =
          CPU_PROF === undefined
            ? await pacedPercentiles(s.url, SECONDS, PACED_RATE)
            : { p50: Number.NaN, p99: Number.NaN };
        const r: Round = {
          flood: f.linesPerSecond,
          p50: f.p50,
          p99: f.p99,
          pacedP50: p.p50,
          pacedP99: p.p99,
          rss: rssMiB(pid),
          cpuUsPerLine,
          serverUsPerLine,
        };
        results[kind].push(r);
        console.log(
          `round ${round + 1} ${kind.padEnd(5)} flood ${Math.round(r.flood)} lines/s, ack p50 ${f1(r.p50)} ms p99 ${f1(r.p99)} ms, CPU ${r.cpuUsPerLine.toFixed(2)} µs/line${SERVER_PID === undefined || kind === 'bare' ? '' : ` (server ${r.serverUsPerLine.toFixed(2)})`}; paced ack p50 ${r.pacedP50.toFixed(2)} ms p99 ${r.pacedP99.toFixed(2)} ms; RSS ${r.rss.toFixed(0)} MiB`,
        );
      } finally {
        await s.stop();
      }
    }
    const b = results.bare[round] as Round;
    const d = results.drain[round] as Round;
    const o = results.other[round];
    console.log(
      `round ${round + 1} drain/bare lines/s ${(d.flood / b.flood).toFixed(3)}${o === undefined ? '' : `, other/bare ${(o.flood / b.flood).toFixed(3)}`}`,
    );
  }
  const b = results.bare;
  const d = results.drain;
  const med = (rs: Round[], k: keyof Round) => median(rs.map((r) => r[k]));
  const ratios = d.map((r, i) => r.flood / (b[i] as Round).flood);
  console.log(
    `\nmedian of ${ROUNDS} rounds (uptime: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})\n` +
      `  flood lines/s: drain ${Math.round(med(d, 'flood'))}, bare ${Math.round(med(b, 'flood'))}; ratio drain/bare ${median(ratios).toFixed(3)} [${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}]\n` +
      `  flood CPU µs per line (all threads): drain ${med(d, 'cpuUsPerLine').toFixed(2)}, bare ${med(b, 'cpuUsPerLine').toFixed(2)}${SERVER_PID === undefined ? '' : `; PostgreSQL server during the drain's flood ${med(d, 'serverUsPerLine').toFixed(2)}`}\n` +
      `  flood ack p50/p99 ms: drain ${f1(med(d, 'p50'))}/${f1(med(d, 'p99'))}, bare ${f1(med(b, 'p50'))}/${f1(med(b, 'p99'))}\n` +
      `  paced ${PACED_RATE} lines/s ack p50/p99 ms: drain ${med(d, 'pacedP50').toFixed(2)}/${med(d, 'pacedP99').toFixed(2)}, bare ${med(b, 'pacedP50').toFixed(2)}/${med(b, 'pacedP99').toFixed(2)}\n` +
      `  RSS MiB: drain ${med(d, 'rss').toFixed(0)}, bare ${med(b, 'rss').toFixed(0)}`,
  );
  const o = results.other;
  if (o.length > 0) {
    const oRatios = o.map((r, i) => r.flood / (b[i] as Round).flood);
    console.log(
      `  other (${COMPARE ?? 'this build'}, node flags ${(OTHER_FLAGS ?? DRAIN_FLAGS).join(' ') || 'none'}): flood ${Math.round(med(o, 'flood'))} lines/s, ratio to bare ${median(oRatios).toFixed(3)}; CPU ${med(o, 'cpuUsPerLine').toFixed(2)} µs/line${SERVER_PID === undefined ? '' : ` (server ${med(o, 'serverUsPerLine').toFixed(2)})`}; flood ack p50/p99 ${f1(med(o, 'p50'))}/${f1(med(o, 'p99'))} ms; paced p50/p99 ${med(o, 'pacedP50').toFixed(2)}/${med(o, 'pacedP99').toFixed(2)} ms; RSS ${med(o, 'rss').toFixed(0)} MiB`,
    );
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'h13-bench-drain-'));
  try {
    if (SOAK_MINUTES > 0) {
      const [bare, drain] = await Promise.all([start('bare', dir), start('drain', dir)]);
      try {
        await soak(
          { bare, drain },
          {
            minutes: SOAK_MINUTES,
            sampleEverySeconds: arg('sample-every', 10),
            warmupSeconds: arg('warmup', 60),
            linesPerSecond: PACED_RATE,
            drainNodeFlags: DRAIN_FLAGS,
          },
        );
      } finally {
        await Promise.all([bare.stop(), drain.stop()]);
      }
    } else await rounds(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
