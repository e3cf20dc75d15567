/**
 * Reproduces the probe's `malformed-target-large-body` case at scale: a request with a bad
 * target followed by a large body, many times, some connections at once, against a server
 * in each variant; counts how each exchange ended (answered, reset, ...). A server that
 * closes while request bytes are still unread makes the kernel send RST (RFC 9112 §9.6),
 * which can destroy the 400 before the client reads it: the client sees a reset (behind
 * Heroku's router, an H13).
 *
 *   node build/bench/guard/rst-race.js [--connections 400] [--concurrency 8]
 *     [--body 2097152] [--variants guard:none,guard:destroy,bare:none] [--options '{}']
 *
 * Prints one line per variant and a JSON summary; exits 1 when any guarded variant lost one.
 */

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Ending } from '../../src/http/raw-exchange.js';
import { runCase } from '../../src/probe/bad-requests.js';
import { BODY_CASES } from '../../src/probe/battery-body.js';
import type { CaseDef } from '../../src/probe/battery-types.js';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '8' },
    body: { type: 'string', default: String(2 * 1024 * 1024) },
    variants: { type: 'string', default: 'guard:none,guard:destroy,guard:silent,bare:none' },
    options: { type: 'string', default: '{}' },
    'timeout-ms': { type: 'string', default: '15000' },
  },
});

const SERVER = fileURLToPath(new URL('./rst-race-server.js', import.meta.url));
const CASE_ID = 'malformed-target-large-body';

/** The probe's own case with its body resized (the head is kept byte for byte). */
export function raceCase(bodyBytes: number): CaseDef {
  const def = BODY_CASES.find((c) => c.id === CASE_ID);
  if (def === undefined) throw new Error(`the probe has no case ${CASE_ID}`);
  const end = def.send.indexOf('\r\n\r\n') + 4;
  const head = def.send
    .slice(0, end)
    .replace(/Content-Length: \d+/i, `Content-Length: ${bodyBytes}`);
  return { ...def, send: head + 'c'.repeat(bodyBytes) };
}

/** A server variant in its own process (rst-race-server.ts); resolves once it listens. */
export async function startServer(variant: string, listener: string, options: string) {
  const child = spawn(process.execPath, [SERVER, variant, listener, options], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\d+)/.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code} before listening`)));
  });
  return { port, stop: () => child.kill('SIGKILL') };
}

export interface RaceCounts {
  /** Conforming answers (the probe's verdict), of which `rstAfter` ended with an RST. */
  answered: number;
  rstAfter: number;
  /** Everything else, by the probe's ending: these are the lost 400s. */
  lost: Partial<Record<Ending | 'wrong-status', number>>;
}

/** `connections` exchanges of the case, `concurrency` at a time, judged as the probe does. */
export async function race(
  port: number,
  connections: number,
  concurrency: number,
  bodyBytes: number,
  timeoutMs: number,
): Promise<RaceCounts> {
  const def = raceCase(bodyBytes);
  const target = { host: '127.0.0.1', port, hostHeader: `127.0.0.1:${port}`, path: '/' };
  const counts: RaceCounts = { answered: 0, rstAfter: 0, lost: {} };
  let next = 0;
  const worker = async () => {
    while (next < connections) {
      next++;
      const r = await runCase(target, def, timeoutMs);
      if (r.conforms) {
        counts.answered++;
        if (r.closedBy === 'rst') counts.rstAfter++;
      } else {
        const key = r.ending === 'answered' ? 'wrong-status' : r.ending;
        counts.lost[key] = (counts.lost[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return counts;
}

async function main(): Promise<void> {
  const connections = Number(values.connections);
  const concurrency = Number(values.concurrency);
  const body = Number(values.body);
  const summary: Record<string, unknown> = {
    node: process.version,
    connections,
    concurrency,
    body,
  };
  let guardedLost = 0;
  for (const v of String(values.variants).split(',')) {
    const [variant = 'guard', listener = 'none'] = v.split(':');
    const server = await startServer(variant, listener, String(values.options));
    try {
      const started = performance.now();
      const counts = await race(
        server.port,
        connections,
        concurrency,
        body,
        Number(values['timeout-ms']),
      );
      const lost = connections - counts.answered;
      if (variant === 'guard') guardedLost += lost;
      const ms = Math.round(performance.now() - started);
      console.log(`${v.padEnd(16)} lost ${lost}/${connections} ${JSON.stringify(counts)} ${ms} ms`);
      summary[v] = { lostTotal: lost, ...counts, ms };
    } finally {
      server.stop();
    }
  }
  console.log(JSON.stringify(summary));
  process.exitCode = guardedLost === 0 ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
