/**
 * Throughput of a bare node:http server against the same server guarded (defaults), and the
 * cost of each optional feature, with pino-http on the same run for scale.
 *
 *   node build/bench/guard/throughput.js [--seconds 3] [--warmup 1] [--rounds 5]
 *     [--connections 10] [--modes sync,async] [--variants bare,guard,...]
 *     [--server-cpu 1] [--load-cpu 0] [--no-pin] [--request-id] [--load autocannon|wrk]
 *     [--keep-servers] [--together] [--fresh]
 *
 * A variant `NAME@BUILD_DIR` (for example guard@/tmp/before/build) runs NAME from another
 * build, in the same rounds: the way to compare two versions of the guard.
 * A variant `guard/OPTION=JSON/...` runs the guard with those options changed (the cost of one
 * feature), for example guard/requestId=false.
 *
 * --request-id sends a valid X-Request-Id with every request (to every variant), as Heroku's
 * router does; without it the guard makes a UUID per request (direct traffic).
 * Each variant runs in its own process; autocannon (programmatic) drives it over loopback
 * from this process. On a shared machine the figures move with other people's load, so:
 * the server and the load generator are pinned to different cores (taskset, the same pinning
 * for every variant), each server is warmed up before it is measured, variants are
 * interleaved round by round with the order rotated, and every variant is compared with the
 * bare server of the same round (paired ratios), whose median and range are reported, and
 * their mean with its 95 % confidence interval (stats.ts), the figure to weigh a point or two.
 * Server CPU time per request (process.cpuUsage in the server) is the steadier figure:
 * req/s also moves with the load generator's share of the machine.
 *
 * --load wrk drives the servers with wrk (Debian's `wrk` package) instead of autocannon.
 * autocannon is JavaScript and costs about as much CPU per request as the server it drives,
 * so on a small or shared machine it, not the server, can set the pace; the server then idles
 * between requests, and its req/s and CPU per request measure the load generator's speed
 * (with less batching per wake-up) rather than its own. wrk keeps one core's server busy.
 *
 * --keep-servers starts every variant's server once, warms each up, and then measures them in
 * turn for --seconds each, round after round. The servers live through the whole run, as a
 * real one does, so whatever a variant keeps between requests stays in its heap for every
 * later burst. Paired bursts a second apart still differed widely on this project's VM,
 * whose speed moves within seconds: --together is what narrows the pairs.
 *
 * --together (implies --keep-servers, needs --load wrk) drives every variant's server at the
 * same time, each by its own wrk, all servers on the one server core. The kernel shares that
 * core between them, so whatever the VM does to its speed happens to every variant in the
 * same second; CPU time per request, each server's own, is then compared within one window.
 *
 * --fresh (needs --together, replaces its --keep-servers) starts a new server for every
 * variant in every round. Each Node process keeps its own speed for its whole life (which code
 * V8 optimized, where things landed in memory), and with kept servers more rounds only measure
 * the same processes again: the offset between them never averages away, and the confidence
 * interval, blind to it, comes out too narrow. With new processes every round the rounds are
 * independent and the interval holds. The new servers are warmed up one after another, each
 * alone with wrk, because warming them at once on the shared core did not let the JIT settle;
 * the order rotates so that no variant always idles longest before the burst. Then they are
 * driven together as --together does, and killed before the next round starts.
 */

import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatMeanRow, formatRow, type Measure, type Summary, summarize } from './stats.js';
import { BENCH_REQUEST_ID, scriptOf } from './variants.js';

interface AutocannonResult {
  requests: { total: number };
  errors: number;
  non2xx: number;
}
type Autocannon = (opts: object) => Promise<AutocannonResult>;

const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as Autocannon;

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    modes: { type: 'string', default: 'sync,async' },
    variants: { type: 'string', default: 'bare,guard,guard+context,guard+steps,pino-http' },
    'server-cpu': { type: 'string', default: '1' },
    'load-cpu': { type: 'string', default: '0' },
    'no-pin': { type: 'boolean', default: false },
    'request-id': { type: 'boolean', default: false },
    load: { type: 'string', default: 'autocannon' },
    'keep-servers': { type: 'boolean', default: false },
    together: { type: 'boolean', default: false },
    fresh: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const modes = String(values.modes).split(',');
const variants = String(values.variants).split(',');
if (variants[0] !== 'bare') throw new Error('--variants must start with bare (the baseline)');

const load = String(values.load);
if (load !== 'autocannon' && load !== 'wrk') throw new Error('--load must be autocannon or wrk');
if (load === 'wrk' && spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error !== undefined)
  throw new Error('--load wrk needs wrk on the PATH (Debian: apt-get install wrk)');

// Servers restarted each round and warmed up together, sharing the core, did not let the JIT
// settle (docs/guard.md, "Eleventh session"): --together keeps them unless --fresh, which
// warms each alone. autocannon running several at once in this process would set the pace
// itself.
if (values.together && load !== 'wrk') throw new Error('--together needs --load wrk');
if (values.fresh && !values.together) throw new Error('--fresh needs --together');
if (values.fresh && values['keep-servers'])
  throw new Error('--fresh starts new servers every round: it cannot go with --keep-servers');
const fresh = values.fresh;
const keepServers = (values['keep-servers'] || values.together) && !fresh;
const headers = values['request-id'] ? { 'x-request-id': BENCH_REQUEST_ID } : undefined;

const SERVER = fileURLToPath(new URL('./server.js', import.meta.url));

/** Pinning needs taskset and two cores; without them the run says so in its header. */
const pin =
  !values['no-pin'] && spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
if (pin) {
  const r = spawnSync('taskset', ['-pc', String(values['load-cpu']), String(process.pid)], {
    stdio: 'ignore',
  });
  if (r.status !== 0) throw new Error('taskset could not pin the load generator');
}

async function startServer(variant: string, mode: string) {
  const [script, name] = scriptOf(variant, SERVER, 'server.js');
  const [cmd, args] = pin
    ? ['taskset', ['-c', String(values['server-cpu']), process.execPath, script, name, mode]]
    : [process.execPath, [script, name, mode]];
  const child = spawn(cmd as string, args as string[], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${variant} exited ${code}`)));
    child.stdout.on('data', (d: Buffer) => {
      const m = /listening on (\d+)/.exec(d.toString());
      if (m) resolve(Number(m[1]));
    });
  });
  // A server that dies mid-run fails the run instead of leaving it waiting for an answer.
  const cpu = () =>
    new Promise<{ total: number; user: number }>((resolve, reject) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new Error(`${variant} exited ${child.exitCode ?? child.signalCode}`));
        return;
      }
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        reject(new Error(`${variant} exited ${code ?? signal}`));
      child.once('exit', onExit);
      const onData = (d: Buffer) => {
        const m = /cpu (\d+) user (\d+)/.exec(d.toString());
        if (m === null) return;
        child.stdout.off('data', onData);
        child.off('exit', onExit);
        resolve({ total: Number(m[1]), user: Number(m[2]) });
      };
      child.stdout.on('data', onData);
      child.stdin.write('cpu\n');
    });
  return { child, port, cpu };
}

/** One wrk run (one thread, pinned like autocannon): requests answered and failures. */
function runWrk(url: string, duration: number): Promise<AutocannonResult> {
  const args = ['-t1', `-c${connections}`, `-d${duration}s`];
  if (headers) for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  args.push(url);
  const [cmd, argv] = pin
    ? ['taskset', ['-c', String(values['load-cpu']), 'wrk', ...args]]
    : ['wrk', args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd as string, argv as string[], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => {
      const total = /(\d+) requests in/.exec(out);
      if (code !== 0 || total === null) {
        reject(new Error(`wrk exited ${code}: ${out}`));
        return;
      }
      const socketErrors =
        /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const errors =
        socketErrors === null ? 0 : socketErrors.slice(1).reduce((a, n) => a + Number(n), 0);
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
      resolve({ requests: { total: Number(total[1]) }, errors, non2xx });
    });
  });
}

function drive(url: string, duration: number): Promise<AutocannonResult> {
  if (load === 'wrk') return runWrk(url, duration);
  return autocannon({ url, connections, headers, duration });
}

type Server = Awaited<ReturnType<typeof startServer>>;

/** Start a variant's server and warm it up: the JIT settles before anything is counted. */
async function warmServer(variant: string, mode: string): Promise<Server> {
  const server = await startServer(variant, mode);
  try {
    await drive(`http://127.0.0.1:${server.port}/`, warmup);
  } catch (err) {
    await stop(server);
    throw err;
  }
  return server;
}

/**
 * Kill a server and wait until it is gone: the next round's servers then have the core to
 * themselves, and none outlives the run.
 */
function stop(server: Server): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

async function burst(variant: string, server: Server): Promise<Measure> {
  const before = await server.cpu();
  const start = performance.now();
  const r = await drive(`http://127.0.0.1:${server.port}/`, seconds);
  const wall = (performance.now() - start) / 1000;
  const after = await server.cpu();
  if (r.errors > 0 || r.non2xx > 0)
    throw new Error(`${variant}: ${r.errors} errors, ${r.non2xx} non-2xx`);
  const n = r.requests.total;
  return {
    rps: n / wall,
    cpuUs: (after.total - before.total) / n,
    userUs: (after.user - before.user) / n,
  };
}

async function measure(variant: string, mode: string): Promise<Measure> {
  const server = await warmServer(variant, mode);
  try {
    return await burst(variant, server);
  } finally {
    await stop(server);
  }
}

/**
 * Every variant's burst at the same time, in the order of --variants. All are waited for even
 * when one fails, so that no wrk is still running when the servers are stopped.
 */
async function burstTogether(servers: ReadonlyMap<string, Server>): Promise<Measure[]> {
  const settled = await Promise.allSettled(variants.map((v) => burst(v, servers.get(v) as Server)));
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<Measure>).value);
}

/** A --fresh round: new servers, warmed up one after another, driven together, stopped. */
async function freshRound(mode: string, round: number): Promise<Measure[]> {
  const servers = new Map<string, Server>();
  try {
    for (let i = 0; i < variants.length; i++) {
      const variant = variants[(i + round) % variants.length] as string;
      servers.set(variant, await warmServer(variant, mode));
    }
    return await burstTogether(servers);
  } finally {
    await Promise.all([...servers.values()].map(stop));
  }
}

/**
 * Every round's measurements, the servers started afresh each time (by default and with
 * --fresh) or kept (--keep-servers).
 */
async function runRounds(mode: string): Promise<Map<string, Measure[]>> {
  const results = new Map<string, Measure[]>(variants.map((v) => [v, []]));
  const kept = new Map<string, Server>();
  try {
    if (keepServers)
      for (const variant of variants) kept.set(variant, await warmServer(variant, mode));
    for (let round = 0; round < rounds; round++) {
      if (values.together) {
        const all = fresh ? await freshRound(mode, round) : await burstTogether(kept);
        for (const [i, m] of all.entries()) results.get(variants[i] as string)?.push(m);
        continue;
      }
      // Rotate the order so that no variant always runs right after the same neighbour.
      for (let i = 0; i < variants.length; i++) {
        const variant = variants[(i + round) % variants.length] as string;
        const server = kept.get(variant);
        const m =
          server === undefined ? await measure(variant, mode) : await burst(variant, server);
        results.get(variant)?.push(m);
      }
    }
  } finally {
    await Promise.all([...kept.values()].map(stop));
  }
  return results;
}

console.log(
  `guard throughput: ${seconds}s measured after ${warmup}s warm-up, ${rounds} rounds, ` +
    `${connections} connections, ${load}, ${headers ? 'X-Request-Id sent' : 'no X-Request-Id'}, ` +
    `${values.together ? 'variants driven together, ' : ''}` +
    `${
      fresh
        ? 'new servers each round, warmed up one after another (--fresh)'
        : keepServers
          ? 'servers kept across rounds'
          : 'servers started each round'
    }, ` +
    (pin
      ? `server pinned to cpu ${values['server-cpu']}, load generator to cpu ${values['load-cpu']}`
      : 'no pinning'),
);
for (const mode of modes) {
  const results = await runRounds(mode);
  const bare = results.get('bare') ?? [];
  console.log(`\nhandler=${mode}: medians [min–max over ${rounds} rounds]; vs bare = paired`);
  console.log(
    'variant            req/s [range]        vs bare [range]           cpu µs/req [range]       vs bare [range]           user cpu vs bare [range]',
  );
  const summaries = variants.map((v) => summarize(results.get(v) ?? [], bare));
  for (const [i, variant] of variants.entries()) {
    console.log(formatRow(variant, summaries[i] as Summary));
  }
  console.log(
    rounds > 1
      ? `\nhandler=${mode}: means [95% confidence interval of the mean, Student's t, ` +
          `${rounds} rounds]; vs bare = paired`
      : `\nhandler=${mode}: means (no interval from one round); vs bare = paired`,
  );
  console.log(
    'variant         req/s vs bare [95% CI]    cpu vs bare [95% CI]      user cpu vs bare [95% CI]',
  );
  for (const [i, variant] of variants.entries()) {
    console.log(formatMeanRow(variant, summaries[i] as Summary));
  }
  if (keepServers && rounds > 1)
    console.log(
      'servers kept: the intervals leave out each process’s own speed, which lasts the whole ' +
        'run (--together --fresh starts new servers every round)',
    );
}
