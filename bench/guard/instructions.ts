/**
 * Instructions per request of the guarded server against the bare one, counted by valgrind's
 * callgrind over real loopback sockets: the guard's cost without the machine's speed in it.
 *
 *   node build/bench/guard/instructions.js [--requests 20000] [--warmup 30000]
 *     [--connections 10] [--variants bare,guard,...] [--request-id] [--rounds 1]
 *     [--parallel 1] [--semi-space-mb 16] [--mode sync|store] [--out DIR]
 *
 * Needs valgrind (Debian: apt-get install valgrind). Each variant's server (server.js, the
 * same variants and `NAME@BUILD_DIR` builds as throughput.js) runs under callgrind; after
 * --warmup requests the counters are zeroed (callgrind_control -z), --requests more are sent
 * with exactLoad over the same connections, and the counters are dumped: instructions in the server process, divided by
 * requests. The load generator is this process, not counted. --out keeps the dumps (and the
 * servers' JIT symbol maps, --perf-basic-prof) for callgrind_annotate; otherwise they go.
 * --mode store answers with setHeader() calls and end(), as Express and Koa do, instead of
 * writeHead() with an object: Node then sends the head from its own header store, which the
 * guard's echo checks differently.
 *
 * Why a count: throughput.js measures time, and this project's VM changes speed within
 * seconds, so its paired ratios are several points wide; two processes of the same bare
 * server differed by 3 % (docs/guard.md, "Twelfth session"). An instruction count does not
 * move with the machine. It leaves out what instructions do not show (the kernel's share,
 * cache misses), so it complements the timed benchmark rather than replacing it.
 *
 * A count still depends on how requests arrive: how many each turn of the event loop takes,
 * and V8's time-driven memory work. Run it on an otherwise idle machine, with --parallel at
 * most the number of cores: five servers under callgrind at once on this project's 2-core VM
 * counted the bare server 15 % higher and the guard's share four times higher than two at a
 * time.
 *
 * Under valgrind the server runs with --single-threaded (V8 compiles on the main thread, so
 * the JIT's state does not depend on thread scheduling) and a fixed young generation
 * (--semi-space-mb): V8 resizes it from what survives, and under valgrind's slowness the
 * resizing differed between runs of the same build by more than the guard's whole cost.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnProcess } from '../../test/helpers/process.js';
import { exactLoad } from './exact-load.js';
import { spread } from './stats.js';
import { BENCH_REQUEST_ID, scriptOf } from './variants.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '30000' },
    connections: { type: 'string', default: '10' },
    variants: { type: 'string', default: 'bare,guard' },
    'request-id': { type: 'boolean', default: false },
    rounds: { type: 'string', default: '1' },
    parallel: { type: 'string', default: '1' },
    'semi-space-mb': { type: 'string', default: '16' },
    mode: { type: 'string', default: 'sync' },
    out: { type: 'string' },
  },
});
if (values.mode !== 'sync' && values.mode !== 'store')
  throw new Error('--mode must be sync or store');
const requests = Number(values.requests);
const warmup = Number(values.warmup);
const connections = Number(values.connections);
const rounds = Number(values.rounds);
const parallel = Number(values.parallel);
const semiSpaceMb = Number(values['semi-space-mb']);
const variants = String(values.variants).split(',');
if (variants[0] !== 'bare') throw new Error('--variants must start with bare (the baseline)');
for (const [name, n] of Object.entries({
  requests,
  warmup,
  connections,
  rounds,
  parallel: Number(values.parallel),
  semiSpaceMb,
}))
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
for (const tool of ['valgrind', 'callgrind_control'])
  if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).error !== undefined)
    throw new Error(`${tool} is not on the PATH (Debian: apt-get install valgrind)`);
const headers = values['request-id'] ? [`X-Request-Id: ${BENCH_REQUEST_ID}`] : [];

const SERVER = fileURLToPath(new URL('./server.js', import.meta.url));

/** Run callgrind_control and fail loudly: a missed zero or dump would count the wrong span. */
function control(flag: string, pid: number): void {
  const r = spawnSync('callgrind_control', [flag, String(pid)], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`callgrind_control ${flag} ${pid}: ${r.stderr}${r.stdout}`);
}

/** One variant under callgrind: instructions per request after the warm-up. */
async function count(variant: string, dir: string): Promise<number> {
  const [script, name] = scriptOf(variant, SERVER, 'server.js');
  const base = `${name.replace(/[^\w+-]/g, '_')}-${Date.now()}`;
  // spawnProcess kills whatever is still running when this process exits: a failed variant
  // rejects the run before the others' cleanup.
  const proc = spawnProcess('valgrind', [
    '--tool=callgrind',
    `--callgrind-out-file=${join(dir, base)}.%p`,
    process.execPath,
    '--single-threaded',
    ...(values.out === undefined ? [] : ['--perf-basic-prof']),
    `--min-semi-space-size=${semiSpaceMb}`,
    `--max-semi-space-size=${semiSpaceMb}`,
    script,
    name,
    values.mode,
  ]);
  try {
    const port = Number((await proc.waitFor(/listening on (\d+)/, 120_000))[1]);
    const pid = proc.child.pid as number;
    // One load over the same connections: new ones after the warm-up sent V8 back to its
    // compiler inside the counted span (the stream objects' field types changed and the
    // request path's optimized code was dropped).
    await exactLoad({
      port,
      requests: warmup + requests,
      connections,
      headers,
      pauseAt: warmup,
      onPause: () => control('-z', pid),
      // Under callgrind a request takes milliseconds.
      timeoutMs: 600_000 + 20 * (warmup + requests),
    });
    control('-d', pid);
    proc.kill();
    await proc.exited(60_000);
    const dump = join(dir, `${base}.${pid}.1`);
    if (!existsSync(dump)) throw new Error(`${variant}: callgrind wrote no dump`);
    const summary = /^summary: (\d+)$/m.exec(readFileSync(dump, 'utf8'));
    if (summary === null) throw new Error(`${variant}: no summary line in ${dump}`);
    return Number(summary[1]) / requests;
  } finally {
    proc.kill();
  }
}

/** Runs the tasks with at most `limit` at once, results in the tasks' order. */
async function pool<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let nextTask = 0;
  const worker = async () => {
    while (nextTask < tasks.length) {
      const i = nextTask++;
      results[i] = await (tasks[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

console.log(
  `guard instructions: callgrind, ${requests} requests counted after ${warmup}, ` +
    `${connections} connections, ${headers.length > 0 ? 'X-Request-Id sent' : 'no X-Request-Id'}, ` +
    `${rounds} round(s), handler ${values.mode}, young generation ${semiSpaceMb} MB, ` +
    process.version,
);
const dir = values.out ?? mkdtempSync(join(tmpdir(), 'h13-instructions-'));
if (values.out !== undefined) mkdirSync(dir, { recursive: true });
try {
  const perRound: number[][] = [];
  for (let round = 0; round < rounds; round++)
    perRound.push(
      await pool(
        variants.map((v) => () => count(v, dir)),
        parallel,
      ),
    );
  console.log('\nvariant            instructions/request [range]     vs bare [range]');
  for (const [i, variant] of variants.entries()) {
    const own = perRound.map((r) => r[i] as number);
    const vsBare = perRound.map((r) => (r[i] as number) / (r[0] as number) - 1);
    const s = spread(own);
    const v = spread(vsBare);
    const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`;
    console.log(
      `${variant.padEnd(18)} ${`${s.median.toFixed(0)} [${s.min.toFixed(0)}…${s.max.toFixed(0)}]`.padEnd(32)} ` +
        `${pct(v.median)} [${pct(v.min)}…${pct(v.max)}]`,
    );
  }
} finally {
  if (values.out === undefined) rmSync(dir, { recursive: true, force: true });
  else console.log(`\ndumps in ${dir} (JIT symbol maps: /tmp/perf-PID.map)`);
}
