/**
 * h13 analyze throughput, against peers measured on the same run and the same file:
 *   split     — the file split into lines: the same reading as the analyzer (openInput: 256 KiB
 *               chunks read into two reused buffers, one full pass), each chunk decoded as
 *               UTF-8 and cut into line strings; no work per line. The target:
 *               analyze ≥ 0.75× split.
 *   scan      — the same reading, line ends found with Buffer.indexOf(10), nothing decoded:
 *               the floor of any line reader, shown so the ratio can be read both ways
 *   readline  — node:readline over a read stream of the same file and chunk size
 *   logfmt    — the split plus the `logfmt` npm parser on every message
 *   analyze   — h13 analyze end to end (read, parse, diagnose, aggregate, build the report)
 * split, scan and analyze run interleaved, ROUNDS times each in this one process (so load from
 * other work on the machine hits them alike); each figure is the median, with min–max.
 *
 *   cli       — `h13 analyze FILE --json` as a child process (dist/: run `npm run build`
 *               first): the end-to-end figure, process start and report output included
 *   node build/bench/analyze/throughput.js [--rounds N]   two 1M-line logs, each measured on
 *     its own: `today` — 60 % router lines (2 % of them errors: H13, H18, H12, H27, H10; 30 %
 *     Router 2.0), 39 % app lines (2 % of them stack lines), 1 % dyno-manager lines (a fifth
 *     crashes, exits, SIGTERMs), 0.05 % releases; `errors` — 2.5 % of all lines router errors,
 *     40 % app lines carrying a recent request id
 *   node build/bench/analyze/throughput.js --file FILE   the same, on a log written before
 *   node build/bench/analyze/throughput.js --big      also a 1 GB log: peak RSS of a child
 *   node build/bench/analyze/throughput.js --generate FILE [LINES [today|errors]]   only write the log
 *   node build/bench/analyze/throughput.js --child FILE              analyze FILE, print maxRSS
 */

import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Analyzer } from '../../src/analyze/analyzer.js';
import { createFeeder, drain } from '../../src/analyze/input.js';
import { openInput } from '../../src/analyze/read-chunks.js';
import { buildReport } from '../../src/analyze/report.js';
import { formatTimestamp } from '../../src/core/heroku-log.js';
import { formatRouterMessage, type RouterRecord } from '../../src/core/router-line.js';
import { seededRandom } from '../../test/helpers/random.js';

const logfmt = createRequire(import.meta.url)('logfmt') as { parse(line: string): object };

const PATHS = [
  '/',
  '/orders/%d',
  '/api/items/%d?expand=1',
  '/users/%d/profile',
  '/assets/app.js',
  '/search?q=x',
];
const APP = [
  'GET /orders/%d 200 12ms',
  'info: request completed user=%d',
  '{"level":30,"time":1772440000000,"pid":21,"msg":"request completed","reqId":"%d","res":{"statusCode":200},"responseTime":12}',
  'sql SELECT * FROM orders WHERE id = %d (1.2ms)',
];
const STACK = [
  'Error: boom',
  '    at handler (/app/server.js:12:11)',
  '    at Layer.handle (/app/node_modules/express/lib/router/layer.js:95:5)',
];
const DYNO = [
  'Process running mem=312M(61.0%)',
  'State changed from up to crashed',
  'Process exited with status 1',
  'Stopping all processes with SIGTERM',
];

/**
 * The two logs measured. `today`: 60 % router lines (2 % of them errors), 39 % app lines, 1 %
 * dyno-manager lines. `errors` (issue 15): 2.5 % of all lines are router errors and 40 % are
 * app lines carrying the request id of a recent request on their dyno (as an app that logs
 * request ids writes them), so waiting errors meet lines that name requests.
 */
type Profile = 'today' | 'errors';

/** Writes `lines` lines of realistic heroku logs; returns the number written. */
async function generate(
  file: string,
  lines: number,
  seed = 7,
  profile: Profile = 'today',
): Promise<number> {
  const heavy = profile === 'errors';
  // Router share and error share of router lines: 0.6 × 2 % today, 0.59 × 4.24 % = 2.5 %.
  const routerShare = heavy ? 0.59 : 0.6;
  const errorShare = heavy ? 0.0424 : 0.02;
  const appShare = 0.99;
  const recentIds: string[] = new Array<string>(64).fill('00000000-9f3e-4d1b-8a7e-3c2f1e0d9b8a');
  const rand = seededRandom(seed); // the same log on every run
  const out = createWriteStream(file, { highWaterMark: 1 << 20 });
  let micros = Date.parse('2026-03-02T00:00:00Z') * 1000;
  let buf = '';
  for (let i = 0; i < lines; i++) {
    micros += Math.floor(rand() * 4000);
    const ts = formatTimestamp(micros);
    const dyno = `web.${1 + Math.floor(rand() * 8)}`;
    const n = Math.floor(rand() * 100000);
    const r = rand();
    if (r < routerShare) {
      const err = rand() < errorShare;
      const codes = ['H13', 'H13', 'H18', 'H12', 'H27', 'H10'] as const;
      const code = err ? codes[Math.floor(rand() * codes.length)]! : null;
      const router2 = rand() < 0.3;
      const rec: RouterRecord = {
        at: code === null ? 'info' : code === 'H27' ? 'warning' : 'error',
        code,
        desc: null,
        cause: null,
        sock: code === 'H27' ? 'client' : code === 'H18' ? 'backend' : null,
        method: rand() < 0.8 ? 'GET' : 'POST',
        path: PATHS[Math.floor(rand() * PATHS.length)]!.replace('%d', String(n)),
        host: 'demo.herokuapp.com',
        requestId: `${n.toString(16).padStart(8, '0')}-9f3e-4d1b-8a7e-3c2f1e0d9b8a`,
        fwd: '203.0.113.9',
        dyno: code === 'H10' ? null : dyno,
        connectMs: 0,
        serviceMs: Math.floor(rand() * 300),
        status: code === null ? 200 : code === 'H27' ? 499 : 503,
        bytes: code === null ? 1000 + n : 0,
        protocol: router2 ? 'http1.1' : 'https',
        tls: router2 ? false : null,
      };
      recentIds[i & 63] = rec.requestId as string;
      buf += `${ts} heroku[router]: ${formatRouterMessage(rec)}\n`;
    } else if (r < appShare) {
      const lines = rand() < 0.02 ? STACK : APP;
      const text = lines[Math.floor(rand() * lines.length)]!.replace('%d', String(n));
      const id = heavy ? ` request_id=${recentIds[Math.floor(rand() * 64)]}` : '';
      buf += `${ts} app[${dyno}]: ${text}${id}\n`;
    } else if (r < 0.9995) {
      buf += `${ts} heroku[${dyno}]: ${rand() < 0.8 ? DYNO[0] : DYNO[1 + Math.floor(rand() * 3)]}\n`;
    } else {
      buf += `${ts} app[api]: Release v${n} created by user dev@example.com\n`;
    }
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  out.end(buf);
  await new Promise<void>((r) => out.on('finish', () => r()));
  return lines;
}

/** Chunks split into line strings: what any line-oriented reader must at least do. */
async function splitLines(file: string, perLine?: (line: string) => void): Promise<number> {
  let count = 0;
  let carry = '';
  const { chunks } = await openInput(file);
  for await (const buf of chunks) {
    const last = buf.lastIndexOf(10);
    const text = carry + buf.toString('utf8', 0, last + 1);
    carry = buf.toString('utf8', last + 1);
    let pos = 0;
    for (;;) {
      const nl = text.indexOf('\n', pos);
      if (nl < 0) break;
      const line = text.slice(pos, nl);
      if (perLine !== undefined) perLine(line);
      count++;
      pos = nl + 1;
    }
  }
  if (carry !== '') count++;
  return count;
}

/** Line ends found in the raw chunks, nothing decoded. */
async function scanLines(file: string): Promise<number> {
  let count = 0;
  let partial = false;
  const { chunks } = await openInput(file);
  for await (const buf of chunks) {
    let pos = 0;
    for (;;) {
      const nl = buf.indexOf(10, pos);
      if (nl < 0) break;
      count++;
      pos = nl + 1;
    }
    partial = pos < buf.length;
  }
  return partial ? count + 1 : count;
}

async function readlineLines(file: string): Promise<number> {
  let count = 0;
  // readline needs a stream, and the analyzer's reader reuses its buffers: a read stream of
  // the same chunk size.
  const rl = createInterface({
    input: createReadStream(file, { highWaterMark: 256 * 1024 }),
    crlfDelay: Infinity,
  });
  for await (const _line of rl) count++;
  return count;
}

async function logfmtLines(file: string): Promise<number> {
  let sink = 0;
  const n = await splitLines(file, (line) => {
    const at = line.indexOf(']: ');
    const parsed = logfmt.parse(at < 0 ? line : line.slice(at + 3));
    if (parsed !== null) sink++;
  });
  if (sink !== n) throw new Error('logfmt skipped lines');
  return n;
}

async function analyzeLines(file: string): Promise<number> {
  const analyzer = new Analyzer();
  const { chunks } = await openInput(file);
  await drain(chunks, createFeeder(analyzer));
  const report = buildReport(analyzer.finish());
  return report.input.lines;
}

/** `h13 analyze FILE --json` in a child process, as a user runs it (output discarded). */
async function cliLines(file: string, lines: number): Promise<number> {
  const r = spawnSync(process.execPath, [CLI_MAIN, 'analyze', file, '--json'], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0 && r.status !== 1) throw new Error(`h13 analyze failed: ${r.stderr}`);
  return lines;
}

const CLI_MAIN = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));

interface Figure {
  readonly name: string;
  readonly rates: number[];
  lines: number;
}

/** One timed run; its rate (lines/s) joins the figure's list. */
async function timed(figure: Figure, run: () => Promise<number>): Promise<void> {
  const t0 = process.hrtime.bigint();
  figure.lines = await run();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  figure.rates.push(figure.lines / s);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

function report(f: Figure): number {
  const m = median(f.rates);
  console.log(
    `${f.name.padEnd(10)} ${fmt(m).padStart(12)} lines/s  median of ${f.rates.length} (min ${fmt(Math.min(...f.rates))}, max ${fmt(Math.max(...f.rates))}; ${fmt(f.lines)} lines)`,
  );
  return m;
}

async function child(file: string): Promise<void> {
  const lines = await analyzeLines(file);
  const rssKb = process.resourceUsage().maxRSS;
  console.log(JSON.stringify({ lines, maxRSSMB: Math.round(rssKb / 1024) }));
}

/** Every reader on one log, interleaved; prints the figures and the ratios. */
async function measure(profile: Profile, file: string, lines: number, rounds: number) {
  console.log(
    `\nh13 analyze benchmark (${profile}) — ${lines.toLocaleString('en-US')} lines, ${(statSync(file).size / 1e6).toFixed(0)} MB, node ${process.version}`,
  );
  const fig = (name: string): Figure => ({ name, rates: [], lines: 0 });
  const split = fig('split');
  const scan = fig('scan');
  const analyze = fig('analyze');
  const cli = fig('cli');
  const rl = fig('readline');
  const lf = fig('logfmt');
  // One warm-up of each, untimed, so the first timed round is not the JIT's.
  await splitLines(file);
  await scanLines(file);
  await analyzeLines(file);
  for (let i = 0; i < rounds; i++) {
    await timed(split, () => splitLines(file));
    await timed(analyze, () => analyzeLines(file));
    await timed(cli, () => cliLines(file, lines));
    await timed(scan, () => scanLines(file));
  }
  for (let i = 0; i < 3; i++) {
    await timed(rl, () => readlineLines(file));
    await timed(lf, () => logfmtLines(file));
  }
  const sp = report(split);
  const sc = report(scan);
  const r = report(rl);
  const l = report(lf);
  const an = report(analyze);
  const c = report(cli);
  const perRound = analyze.rates.map((a, i) => a / (split.rates[i] as number));
  const cliRound = cli.rates.map((a, i) => a / (split.rates[i] as number));
  console.log(
    `analyze / split ${(an / sp).toFixed(2)}× (per round: min ${Math.min(...perRound).toFixed(2)}, max ${Math.max(...perRound).toFixed(2)})   cli / split ${(c / sp).toFixed(2)}× (per round: min ${Math.min(...cliRound).toFixed(2)}, max ${Math.max(...cliRound).toFixed(2)})   analyze / scan ${(an / sc).toFixed(2)}×   analyze / readline ${(an / r).toFixed(2)}×   analyze / logfmt ${(an / l).toFixed(2)}×`,
  );
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args[1] as string);
  if (args[0] === '--generate') {
    await generate(
      args[1] as string,
      Number(args[2] ?? 1_000_000),
      7,
      (args[3] ?? 'today') as Profile,
    );
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'h13-bench-analyze-'));
  try {
    const given = args.indexOf('--file');
    const roundsAt = args.indexOf('--rounds');
    const rounds = roundsAt >= 0 ? Math.max(1, Number(args[roundsAt + 1])) : 7;
    const logs: Array<[Profile, string]> =
      given >= 0
        ? [['today', args[given + 1] as string]]
        : [
            ['today', join(dir, 'logs.txt')],
            ['errors', join(dir, 'errors.txt')],
          ];
    for (const [profile, file] of logs) {
      const lines =
        given >= 0 ? await scanLines(file) : await generate(file, 1_000_000, 7, profile);
      await measure(profile, file, lines, rounds);
    }
    if (args.includes('--big')) {
      const big = join(dir, 'big.txt');
      await generate(big, 4_200_000 * 1, 11);
      let size = statSync(big).size;
      // About 1 GB: append generated blocks until the size is reached.
      let seed = 12;
      while (size < 1e9) {
        const part = join(dir, `part-${seed}.txt`);
        await generate(part, 1_000_000, seed++);
        await appendFile(big, part);
        rmSync(part);
        size = statSync(big).size;
      }
      const script = fileURLToPath(import.meta.url);
      const r = spawnSync(process.execPath, [script, '--child', big], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
      const { lines: bigLines, maxRSSMB } = JSON.parse(r.stdout) as {
        lines: number;
        maxRSSMB: number;
      };
      console.log(
        `1 GB log: ${(size / 1e9).toFixed(2)} GB, ${bigLines.toLocaleString('en-US')} lines, peak RSS ${maxRSSMB} MB (process.resourceUsage().maxRSS of the child)`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function appendFile(target: string, source: string): Promise<void> {
  const out = createWriteStream(target, { flags: 'a' });
  for await (const chunk of createReadStream(source)) {
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  out.end();
  await new Promise<void>((r) => out.on('finish', () => r()));
}

await main();
