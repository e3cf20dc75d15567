/**
 * `h13 drain` ingest against a bare peer, same run, same batches (issue 17's benchmark, first
 * part: SQLite only).
 *   bare   — bench/drain/bare-server.ts: reads the body, splits the frames, discards them
 *   drain  — `h13 drain` (built CLI): auth, frames to lines, one SQLite commit per batch
 *            (WAL, synchronous=FULL), one analyzer per app, diagnoses stored
 * Both run as child processes on the Node running this script. Rounds alternate bare/drain so
 * load from other work on the machine hits both alike; each figure is the median of rounds.
 *
 *   node build/bench/drain/ingest.js [--seconds S] [--rounds N] [--concurrency C] [--database-url URL]
 *     --database-url: the drain keeps everything in that PostgreSQL instead of a new SQLite
 *     file (every round writes into the same database, which keeps what earlier rounds wrote)
 *     flood: C senders (one app each, as logplex sends one batch at a time per drain) post
 *     100 KiB batches (logplex's http_drain_target_bytes) back to back for S seconds:
 *     lines/s and acknowledgement latency
 *     paced: 5 000 lines/s in batches of 100 lines: acknowledgement p50/p99
 *     RSS of the drain process after each round
 */

import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Spawned, spawnNode } from '../../test/helpers/process.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(args[i + 1]);
};
const DATABASE_URL = ((i) => (i < 0 ? undefined : args[i + 1]))(args.indexOf('--database-url'));
const SECONDS = arg('seconds', 5);
const ROUNDS = arg('rounds', 3);
const CONCURRENCY = arg('concurrency', 4);
const PACED_RATE = 5000;
const PACED_BATCH = 100;
const TARGET_BYTES = 102_400;
const PASSWORD = 'bench-password';
const AUTH = `Basic ${Buffer.from(`h13:${PASSWORD}`).toString('base64')}`;
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const BARE = fileURLToPath(new URL('./bare-server.js', import.meta.url));

let seq = 0;
function line(): string {
  const n = seq++;
  const t = new Date(Date.UTC(2026, 2, 2, 10, 0, 0) + n).toISOString().replace('Z', '000+00:00');
  const id = randomUUID();
  if (n % 50 === 0)
    return `${t} heroku[router]: at=error code=H13 desc="Connection closed without response" method=GET path="/orders/${n}" host=bench.herokuapp.com request_id=${id} fwd="203.0.113.9" dyno=web.${n % 4} connect=0ms service=12ms status=503 bytes=0 protocol=https`;
  if (n % 2 === 0)
    return `${t} heroku[router]: at=info method=GET path="/orders/${n}" host=bench.herokuapp.com request_id=${id} fwd="203.0.113.9" dyno=web.${n % 4} connect=0ms service=12ms status=200 bytes=1234 protocol=https`;
  return `${t} app[web.${n % 4}]: GET /orders/${n} 200 12ms request_id=${id}`;
}

function frame(l: string): Buffer {
  const m = /^(\S+) ([\w-]+)\[([^\]]+)\]: (.*)$/.exec(l) as RegExpExecArray;
  const f = Buffer.from(
    `<${m[2] === 'heroku' ? 158 : 190}>1 ${m[1]} host ${m[2]} ${m[3]} - ${m[4]}`,
  );
  return Buffer.concat([Buffer.from(`${f.length} `), f]);
}

interface Batch {
  readonly body: Buffer;
  readonly lines: number;
}

function makeBatch(maxBytes: number, maxLines: number): Batch {
  const parts: Buffer[] = [];
  let size = 0;
  while (size < maxBytes && parts.length < maxLines) {
    const f = frame(line());
    parts.push(f);
    size += f.length;
  }
  return { body: Buffer.concat(parts), lines: parts.length };
}

function post(agent: Agent, url: string, app: string, b: Batch): Promise<number> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/drain/${app}`,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: AUTH,
          'content-type': 'application/logplex-1',
          'content-length': String(b.body.length),
          'logplex-msg-count': String(b.lines),
          'logplex-frame-id': randomUUID().replaceAll('-', '').toUpperCase(),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
          else resolve(Number(process.hrtime.bigint() - started) / 1e6);
        });
      },
    );
    req.on('error', reject);
    req.end(b.body);
  });
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const median = (xs: number[]) =>
  pct(
    [...xs].sort((a, b) => a - b),
    50,
  );

/** Pre-built batches, so making them costs nothing during a round. */
const floodBatches = Array.from({ length: 64 }, () => makeBatch(TARGET_BYTES, 10_000));
const pacedBatches = Array.from({ length: 64 }, () =>
  makeBatch(Number.MAX_SAFE_INTEGER, PACED_BATCH),
);

async function flood(url: string): Promise<{ linesPerSecond: number; p50: number; p99: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const latencies: number[] = [];
  let lines = 0;
  let k = 0;
  const end = Date.now() + SECONDS * 1000;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      while (Date.now() < end) {
        const b = floodBatches[k++ % floodBatches.length] as Batch;
        latencies.push(await post(agent, url, `bench-${w}`, b));
        lines += b.lines;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { linesPerSecond: lines / seconds, p50: pct(latencies, 50), p99: pct(latencies, 99) };
}

async function paced(url: string): Promise<{ p50: number; p99: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const latencies: number[] = [];
  const intervalMs = (PACED_BATCH / PACED_RATE) * 1000;
  const count = Math.round((SECONDS * 1000) / intervalMs);
  const pending: Array<Promise<void>> = [];
  const t0 = Date.now();
  for (let i = 0; i < count; i++) {
    const due = t0 + i * intervalMs;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const b = pacedBatches[i % pacedBatches.length] as Batch;
    pending.push(post(agent, url, 'paced', b).then((ms) => void latencies.push(ms)));
  }
  await Promise.all(pending);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { p50: pct(latencies, 50), p99: pct(latencies, 99) };
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? Number.NaN : Number(m[1]) / 1024;
}

async function start(kind: 'bare' | 'drain', dir: string): Promise<{ proc: Spawned; url: string }> {
  const proc =
    kind === 'bare'
      ? spawnNode(BARE, [])
      : spawnNode(
          CLI,
          [
            'drain',
            '--port',
            '0',
            ...(DATABASE_URL === undefined
              ? ['--db', join(dir, `drain-${randomUUID()}.db`)]
              : ['--database-url', DATABASE_URL]),
            '--app-rate',
            '0',
          ],
          { env: { H13_DRAIN_PASSWORD: PASSWORD, DYNO: '' } },
        );
  const m = await proc.waitFor(/listening on (http:\/\/\S+)/, 20_000);
  return { proc, url: m[1] as string };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'h13-bench-drain-'));
  const results: Record<
    string,
    {
      flood: number[];
      p50: number[];
      p99: number[];
      pacedP50: number[];
      pacedP99: number[];
      rss: number[];
    }
  > = {
    bare: { flood: [], p50: [], p99: [], pacedP50: [], pacedP99: [], rss: [] },
    drain: { flood: [], p50: [], p99: [], pacedP50: [], pacedP99: [], rss: [] },
  };
  const lineBytes =
    floodBatches[0] === undefined ? 0 : floodBatches[0].body.length / floodBatches[0].lines;
  console.log(
    `store ${DATABASE_URL === undefined ? 'SQLite' : 'PostgreSQL'}; node ${process.version}; ${SECONDS} s per run, ${ROUNDS} rounds, ${CONCURRENCY} senders; flood batches ${floodBatches[0]?.lines} lines (${floodBatches[0]?.body.length} bytes, ${lineBytes.toFixed(0)} bytes/line); paced ${PACED_RATE} lines/s in batches of ${PACED_BATCH}`,
  );
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of ['bare', 'drain'] as const) {
        const s = await start(kind, dir);
        try {
          const f = await flood(s.url);
          const p = await paced(s.url);
          const r = results[kind] as (typeof results)['bare'];
          r.flood.push(f.linesPerSecond);
          r.p50.push(f.p50);
          r.p99.push(f.p99);
          r.pacedP50.push(p.p50);
          r.pacedP99.push(p.p99);
          r.rss.push(rssMiB(s.proc.child.pid as number));
          console.log(
            `round ${round + 1} ${kind.padEnd(5)} flood ${Math.round(f.linesPerSecond)} lines/s, ack p50 ${f.p50.toFixed(1)} ms p99 ${f.p99.toFixed(1)} ms; paced ack p50 ${p.p50.toFixed(2)} ms p99 ${p.p99.toFixed(2)} ms; RSS ${r.rss.at(-1)?.toFixed(0)} MiB`,
          );
        } finally {
          s.proc.kill();
          await s.proc.exited();
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const b = results.bare as (typeof results)['bare'];
  const d = results.drain as (typeof results)['bare'];
  console.log(
    `\nmedian: drain ${Math.round(median(d.flood))} lines/s (${(median(d.flood) / median(b.flood)).toFixed(2)}x bare ${Math.round(median(b.flood))}); ` +
      `paced 5000 lines/s ack p99 drain ${median(d.pacedP99).toFixed(2)} ms, bare ${median(b.pacedP99).toFixed(2)} ms; drain RSS ${median(d.rss).toFixed(0)} MiB`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
