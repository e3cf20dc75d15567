/**
 * Throughput of a bare node:http server against the same server guarded (defaults), and the
 * cost of each optional feature, with pino-http on the same run for scale.
 *
 *   node build/bench/guard/throughput.js [--seconds 3] [--rounds 3] [--connections 10]
 *
 * Each variant runs in its own process; autocannon (programmatic) drives it over loopback
 * from this process. Variants are interleaved round by round so machine noise hits them alike;
 * the figure per variant is the median of its rounds.
 */

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface AutocannonResult {
  requests: { average: number; total: number };
  errors: number;
  non2xx: number;
}
type Autocannon = (opts: object) => Promise<AutocannonResult>;

const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as Autocannon;

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '10' },
    modes: { type: 'string', default: 'sync,async' },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const modes = String(values.modes).split(',');

const VARIANTS = ['bare', 'guard', 'guard+context', 'guard+steps', 'pino-http'] as const;
const SERVER = fileURLToPath(new URL('./server.js', import.meta.url));

async function startServer(variant: string, mode: string) {
  const child = spawn(process.execPath, [SERVER, variant, mode], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${variant} exited ${code}`)));
    child.stdout.on('data', (d: Buffer) => {
      const m = /listening on (\d+)/.exec(d.toString());
      if (m) resolve(Number(m[1]));
    });
  });
  const cpu = () =>
    new Promise<number>((resolve) => {
      const onData = (d: Buffer) => {
        const m = /cpu (\d+)/.exec(d.toString());
        if (m === null) return;
        child.stdout.off('data', onData);
        resolve(Number(m[1]));
      };
      child.stdout.on('data', onData);
      child.stdin.write('cpu\n');
    });
  return { child, port, cpu };
}

interface Measure {
  readonly rps: number;
  /** Server CPU (user + system) per request, microseconds. */
  readonly cpuUs: number;
}

async function measure(variant: string, mode: string): Promise<Measure> {
  const { child, port, cpu } = await startServer(variant, mode);
  try {
    // Warm-up (JIT), then the measured run.
    await autocannon({ url: `http://127.0.0.1:${port}/`, connections, duration: 1 });
    const before = await cpu();
    const r = await autocannon({
      url: `http://127.0.0.1:${port}/`,
      connections,
      duration: seconds,
    });
    const after = await cpu();
    if (r.errors > 0 || r.non2xx > 0)
      throw new Error(`${variant}: ${r.errors} errors, ${r.non2xx} non-2xx`);
    return { rps: r.requests.average, cpuUs: (after - before) / r.requests.total };
  } finally {
    child.kill('SIGKILL');
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

const pct = (x: number, base: number) => {
  const d = (x / base - 1) * 100;
  return `${d >= 0 ? '+' : ''}${d.toFixed(1)}%`;
};

for (const mode of modes) {
  const results = new Map<string, Measure[]>(VARIANTS.map((v) => [v, []]));
  for (let round = 0; round < rounds; round++) {
    for (const variant of VARIANTS) results.get(variant)?.push(await measure(variant, mode));
  }
  const rpsOf = (v: string) => median((results.get(v) ?? []).map((m) => m.rps));
  const cpuOf = (v: string) => median((results.get(v) ?? []).map((m) => m.cpuUs));
  const bareRps = rpsOf('bare');
  const bareCpu = cpuOf('bare');
  console.log(
    `\nhandler=${mode} connections=${connections} ${seconds}s x ${rounds} rounds, medians`,
  );
  console.log('variant          req/s  vs bare   cpu us/req  vs bare   req/s per round');
  for (const variant of VARIANTS) {
    const rps = rpsOf(variant);
    const cpu = cpuOf(variant);
    const rounds = (results.get(variant) ?? []).map((m) => m.rps.toFixed(0)).join(' ');
    console.log(
      `${variant.padEnd(15)} ${rps.toFixed(0).padStart(6)} ${pct(rps, bareRps).padStart(8)}   ${cpu.toFixed(2).padStart(10)} ${pct(cpu, bareCpu).padStart(8)}   ${rounds}`,
    );
  }
}
