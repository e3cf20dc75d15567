/**
 * The traffic of the drain benchmark: logplex batches built before a run (so making them
 * costs nothing while it is measured), posted the way logplex posts them, back to back
 * (flood) or at a fixed rate (paced), with each acknowledgement's latency.
 */

import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';

export const PASSWORD = 'bench-password';
const AUTH = `Basic ${Buffer.from(`h13:${PASSWORD}`).toString('base64')}`;
/** logplex's http_drain_target_bytes (src/logplex.app.src in heroku/logplex). */
export const TARGET_BYTES = 102_400;
export const PACED_BATCH = 100;

let seq = 0;
/** A `heroku logs` line: half router lines (1 in 50 an H13), half app lines. */
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

export interface Batch {
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

export const floodBatches: readonly Batch[] = Array.from({ length: 64 }, () =>
  makeBatch(TARGET_BYTES, 10_000),
);
export const pacedBatches: readonly Batch[] = Array.from({ length: 64 }, () =>
  makeBatch(Number.MAX_SAFE_INTEGER, PACED_BATCH),
);

/** Posts one batch; resolves with the milliseconds until the answer's end. */
export function post(agent: Agent, url: string, app: string, b: Batch): Promise<number> {
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

export const pct = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

export function median(xs: readonly number[]): number {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1
    ? (v[mid] as number)
    : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

export interface FloodResult {
  readonly linesPerSecond: number;
  readonly seconds: number;
  readonly p50: number;
  readonly p99: number;
}

/** `senders` senders, one app each (logplex sends one batch at a time per drain). */
export async function flood(url: string, seconds: number, senders: number): Promise<FloodResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: senders });
  const latencies: number[] = [];
  let lines = 0;
  let k = 0;
  const end = Date.now() + seconds * 1000;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: senders }, async (_, w) => {
      while (Date.now() < end) {
        const b = floodBatches[k++ % floodBatches.length] as Batch;
        latencies.push(await post(agent, url, `bench-${w}`, b));
        lines += b.lines;
      }
    }),
  );
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    linesPerSecond: lines / elapsed,
    seconds: elapsed,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
  };
}

/**
 * Batches of PACED_BATCH lines sent on a fixed schedule (not waiting for answers), so a slow
 * answer shows as latency rather than as a lower rate. `onAck` sees every latency as it comes.
 */
export async function paced(
  url: string,
  seconds: number,
  linesPerSecond: number,
  onAck: (ms: number) => void,
  app = 'paced',
): Promise<void> {
  // 8: the drain's default --app-concurrency; more would be answered 429.
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const intervalMs = (PACED_BATCH / linesPerSecond) * 1000;
  const count = Math.round((seconds * 1000) / intervalMs);
  const pending = new Set<Promise<void>>();
  const t0 = Date.now();
  try {
    for (let i = 0; i < count; i++) {
      const wait = t0 + i * intervalMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const b = pacedBatches[i % pacedBatches.length] as Batch;
      const p: Promise<void> = post(agent, url, app, b).then(onAck);
      pending.add(p);
      p.finally(() => pending.delete(p)).catch(() => {});
    }
    await Promise.all(pending);
  } finally {
    agent.destroy();
  }
}

export async function pacedPercentiles(
  url: string,
  seconds: number,
  linesPerSecond: number,
): Promise<{ p50: number; p99: number }> {
  const latencies: number[] = [];
  await paced(url, seconds, linesPerSecond, (ms) => latencies.push(ms));
  latencies.sort((a, b) => a - b);
  return { p50: pct(latencies, 50), p99: pct(latencies, 99) };
}
