/**
 * The guard's own CPU cost per request, without the network: a bare and a guarded
 * http.Server in this one process, fed requests through in-memory sockets, alternated in
 * batches. No syscalls and no load generator means the difference between the two is the
 * guard's JavaScript (plus the garbage it makes), steady enough to compare designs on a
 * shared machine where throughput figures move by ±30 %. Divide it by the bare server's CPU
 * per request over a real socket (throughput.js) to get the share of throughput it costs.
 *
 *   node build/bench/guard/overhead.js [--rounds 15] [--requests 50000] [--request-id]
 *     [--processes] [--variants bare,guard,...]
 *
 * In one process the bare server pays for what the guard patches on shared prototypes (the
 * response-head wrapper) and for call sites the two servers make polymorphic, so the
 * difference understates the guard. --processes runs each variant in a process of its own
 * (alternated round by round, as throughput.js does, with its `guard/OPTION=JSON` and
 * `NAME@BUILD_DIR` variants), which sees that part too.
 *
 * --request-id sends a valid X-Request-Id on every request, as Heroku's router does; without
 * it the guard makes a UUID for every request (direct traffic).
 */

import { spawn } from 'node:child_process';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { Duplex, type Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { guard } from '../../src/guard/index.js';
import { spread } from './stats.js';
import { BENCH_REQUEST_ID, optionsOf, scriptOf } from './variants.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    requests: { type: 'string', default: '50000' },
    'request-id': { type: 'boolean', default: false },
    processes: { type: 'boolean', default: false },
    variants: { type: 'string', default: 'bare,guard' },
    child: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const requests = Number(values.requests);
const CONNECTIONS = 10;

const body = 'hello world\n';
const handler: http.RequestListener = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
};
const DEFAULT_OPTIONS = { signals: false, crash: false, exit: false } as const;

const idLine = values['request-id'] ? `X-Request-Id: ${BENCH_REQUEST_ID}\r\n` : '';
const REQUEST = Buffer.from(`GET / HTTP/1.1\r\nHost: localhost\r\n${idLine}\r\n`);

type Chunk = { chunk: Buffer | string };
const endsResponse = (c: Buffer | string) => c.length > 0 && String(c).endsWith(body);

/** An in-memory keep-alive connection; the returned function sends one request. */
function connect(server: http.Server): () => Promise<void> {
  let done: () => void = () => {};
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer | string, _enc, cb) {
      cb();
      if (endsResponse(chunk)) done();
    },
    writev(chunks: Chunk[], cb) {
      cb();
      if (chunks.some((c) => endsResponse(c.chunk))) done();
    },
  });
  // What node:http calls on a net.Socket and a Duplex lacks.
  Object.assign(socket, {
    remoteAddress: '127.0.0.1',
    setTimeout: () => socket,
    setNoDelay: () => socket,
    setKeepAlive: () => socket,
  });
  server.emit('connection', socket);
  return () =>
    new Promise<void>((resolve) => {
      done = resolve;
      socket.push(REQUEST);
    });
}

/** CPU nanoseconds per request for `n` requests over CONNECTIONS connections. */
async function run(server: http.Server, n: number): Promise<number> {
  const sends = Array.from({ length: CONNECTIONS }, () => connect(server));
  const start = process.cpuUsage();
  await Promise.all(
    sends.map(async (send) => {
      for (let i = 0; i < n / CONNECTIONS; i++) await send();
    }),
  );
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / n;
}

if (values.child !== undefined) await child(values.child);
else if (values.processes) await separate();
else await together();

/** One variant in this process: warm up, then one line of ns per request per round. */
async function child(variant: string): Promise<void> {
  const server = http.createServer(handler);
  if (variant !== 'bare') guard(server, { ...DEFAULT_OPTIONS, ...optionsOf(variant) });
  for (let i = 0; i < 2; i++) await run(server, requests);
  process.stdin.setEncoding('utf8').on('data', async (command: string) => {
    if (command.startsWith('exit')) process.exit(0);
    console.log(`ns ${await run(server, requests)}`);
  });
  console.log('ready');
}

async function separate(): Promise<void> {
  const variants = String(values.variants).split(',');
  if (variants[0] !== 'bare') throw new Error('--variants must start with bare (the baseline)');
  const procs = await Promise.all(variants.map(startChild));
  const ns = new Map<string, number[]>(variants.map((v) => [v, []]));
  try {
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < variants.length; i++) {
        const k = (i + round) % variants.length;
        ns.get(variants[k] as string)?.push(await (procs[k] as ChildProc).measure());
      }
    }
  } finally {
    for (const p of procs) p.stop();
  }
  const bareNs = ns.get('bare') ?? [];
  console.log(
    `guard overhead, in-memory sockets, each variant in its own process, ${rounds} rounds × ` +
      `${requests} requests, ${values['request-id'] ? 'X-Request-Id sent (router case)' : 'no X-Request-Id (UUID made)'}`,
  );
  for (const v of variants) {
    const xs = ns.get(v) ?? [];
    const extra = xs.map((x, r) => x - (bareNs[r] ?? Number.NaN));
    const ratio = xs.map((x, r) => x / (bareNs[r] ?? Number.NaN) - 1);
    const m = spread(ratio);
    console.log(
      `${v.padEnd(28)} ${fmt(xs)} CPU per request; vs bare ${fmt(extra)}, ` +
        `${(m.median * 100).toFixed(1)} % [${(m.min * 100).toFixed(1)}…${(m.max * 100).toFixed(1)}]`,
    );
  }
}

interface ChildProc {
  measure(): Promise<number>;
  stop(): void;
}

async function startChild(variant: string): Promise<ChildProc> {
  const [script, name] = scriptOf(variant, fileURLToPath(import.meta.url), 'overhead.js');
  const args = [script, '--child', name, '--requests', String(requests)];
  if (values['request-id']) args.push('--request-id');
  const proc = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'ignore'] });
  const lines = createInterface({ input: proc.stdout as Readable });
  const next = lines[Symbol.asyncIterator]();
  const read = async (): Promise<string> => {
    const r = await next.next();
    if (r.done === true) throw new Error(`${variant} exited`);
    return r.value as string;
  };
  if ((await read()) !== 'ready') throw new Error(`${variant} did not start`);
  return {
    async measure() {
      proc.stdin?.write('run\n');
      return Number((await read()).slice(3));
    },
    stop() {
      proc.kill('SIGKILL');
    },
  };
}

function fmt(xs: number[]): string {
  const s = spread(xs);
  return `${s.median.toFixed(0)} ns [${s.min.toFixed(0)}…${s.max.toFixed(0)}]`;
}

async function together(): Promise<void> {
  const bare = http.createServer(handler);
  const guarded = guard(http.createServer(handler), DEFAULT_OPTIONS);
  // Warm-up: both servers' paths optimized before anything is counted.
  for (let i = 0; i < 2; i++) {
    await run(bare, requests);
    await run(guarded, requests);
  }
  const bareNs: number[] = [];
  const guardedNs: number[] = [];
  const extraNs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    // Alternate which one goes first, so that drift within a round cancels out.
    const first = round % 2 === 0 ? bare : guarded;
    const a = await run(first, requests);
    const b = await run(first === bare ? guarded : bare, requests);
    const [x, y] = first === bare ? [a, b] : [b, a];
    bareNs.push(x);
    guardedNs.push(y);
    extraNs.push(y - x);
  }
  console.log(
    `guard overhead, in-memory sockets, ${rounds} rounds × ${requests} requests, ` +
      `${values['request-id'] ? 'X-Request-Id sent (router case)' : 'no X-Request-Id (UUID made)'}`,
  );
  console.log(`bare     ${fmt(bareNs)} CPU per request`);
  console.log(`guarded  ${fmt(guardedNs)} CPU per request`);
  console.log(`guard    ${fmt(extraNs)} CPU per request (paired difference, median [range])`);
}
