/**
 * Router benchmark (not a test). The same trivial node:http app (one process, shared by all)
 * reached directly, through `h13 router` (Router 2.0, every Heroku behaviour on, one router
 * line per request written to a file; router-server.ts runs it as the CLI does), through http-proxy (keep-alive agent) and through
 * nginx (when installed; see nginx.ts for how it is made comparable).
 *
 * Fairness on a small box: every process is pinned with taskset, the same way for every
 * contender. Default layout `sut`: the load generator (wrk, one thread) alone on CPU 0, the
 * system under test (app + proxy) on CPU 1, so req/s is the inverse of app + proxy CPU per
 * request and the load generator never steals from the servers. `--pin proxy` gives the proxy
 * CPU 1 alone (wrk and app share CPU 0); `--pin none` leaves placement to the kernel.
 *
 * Each contender gets a warm-up, then `--rounds` rounds in a rotating order; a round is one
 * run at `--connections` and one at 1 connection. Reported: medians with [min–max], ratios
 * computed within each round (so machine load drifting between rounds cancels out), CPU µs
 * per request of the proxy and the app from /proc, and the router's RSS over a long run.
 *
 *   node build/bench/router/bench.js [--seconds 8] [--connections 50] [--rounds 5]
 *     [--pin sut|proxy|none] [--long-seconds 60] [--baseline-build COPY/OF/build]
 */

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOAD_TOOL, type LoadResult, load } from './load.js';
import { startNginx } from './nginx.js';
import { cpuSeconds, rssKb, start, stopAll, which } from './processes.js';
import { fmt, report, type Sample, type Target } from './report.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROUTER = path.join(here, 'router-server.js');
const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const SECONDS = Number(opt('seconds', '8'));
const CONNECTIONS = Number(opt('connections', '50'));
const ROUNDS = Number(opt('rounds', '5'));
const LONG_SECONDS = Number(opt('long-seconds', '60'));
const PIN = opt('pin', 'sut');
/** Another build (e.g. a copy of build/ made before a change), measured as one more contender. */
const BASELINE_BUILD = opt('baseline-build', '');

const canPin = which('taskset') !== null && os.cpus().length >= 2 && PIN !== 'none';
const LAYOUTS: Record<string, { load: string; app: string; proxy: string }> = {
  sut: { load: '0', app: '1', proxy: '1' },
  proxy: { load: '0', app: '0', proxy: '1' },
};
const layout = canPin ? LAYOUTS[PIN] : undefined;
if (canPin && layout === undefined) throw new Error(`--pin ${PIN}: use sut, proxy or none`);
const cpu = (role: 'load' | 'app' | 'proxy'): string | null => layout?.[role] ?? null;

async function measure(t: Target, appPid: number, connections: number, seconds: number) {
  const proxyBefore = t.pid === null ? 0 : cpuSeconds(t.pid);
  const appBefore = cpuSeconds(appPid);
  const r: LoadResult = await load(cpu('load'), t.url, connections, seconds);
  const proxyCpu = t.pid === null ? 0 : cpuSeconds(t.pid) - proxyBefore;
  const appCpu = cpuSeconds(appPid) - appBefore;
  if (r.errors > 0) console.error(`  ${t.name}: ${r.errors} errors reported by ${LOAD_TOOL}`);
  return { r, proxyUs: (proxyCpu / r.requests) * 1e6, appUs: (appCpu / r.requests) * 1e6 };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h13-bench-router-'));
  const routerLog = path.join(dir, 'router.log');
  console.log(
    `h13 router benchmark: ${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}, ` +
      `load tool ${LOAD_TOOL}, ${SECONDS}s per run, ${ROUNDS} rounds, loadavg ${os.loadavg()[0]?.toFixed(2)}`,
  );
  console.log(
    layout === undefined
      ? 'pinning: none'
      : `pinning: load generator CPU ${layout.load}, app CPU ${layout.app}, proxy CPU ${layout.proxy}`,
  );
  const node = process.execPath;
  const app = await start(
    cpu('app'),
    node,
    [path.join(here, 'trivial-app.js')],
    /listening on (http:\/\/\S+)/,
  );
  const appPid = app.child.pid as number;
  const router = await start(
    cpu('proxy'),
    node,
    [ROUTER, app.url],
    /router listening on (http:\/\/\S+)/,
    routerLog,
  );
  const proxy = await start(
    cpu('proxy'),
    node,
    [path.join(here, 'http-proxy-server.js'), app.url],
    /listening on (http:\/\/\S+)/,
  );
  const floor = await start(
    cpu('proxy'),
    node,
    [path.join(here, 'floor-proxy.js'), app.url],
    /listening on (http:\/\/\S+)/,
  );
  const targets: Target[] = [
    { name: 'direct', url: app.url, pid: null },
    { name: 'h13 router', url: router.url, pid: router.child.pid as number },
    { name: 'http-proxy', url: proxy.url, pid: proxy.child.pid as number },
    { name: 'node floor', url: floor.url, pid: floor.child.pid as number },
  ];
  if (BASELINE_BUILD !== '') {
    const base = await start(
      cpu('proxy'),
      node,
      [ROUTER, app.url, '--build', BASELINE_BUILD],
      /router listening on (http:\/\/\S+)/,
      path.join(dir, 'baseline.log'),
    );
    targets.push({ name: 'router base', url: base.url, pid: base.child.pid as number });
  }
  const nginx = which('nginx');
  if (nginx !== null) {
    const n = await startNginx(nginx, cpu('proxy'), dir, app.url);
    targets.push({ name: 'nginx', url: n.url, pid: n.pid });
  }

  // Warm every path (JIT, pools, nginx's upstream connections), then measure.
  for (const t of targets) await load(cpu('load'), t.url, CONNECTIONS, 3);
  for (const t of targets) await load(cpu('load'), t.url, 1, 1);
  const samples: Sample[] = [];
  const latencySeconds = Math.max(3, Math.round(SECONDS / 2));
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order so no contender always runs first (or last) in a round.
    const order = targets.map((_, i) => targets[(i + round) % targets.length] as Target);
    for (const t of order) {
      const many = await measure(t, appPid, CONNECTIONS, SECONDS);
      const one = await load(cpu('load'), t.url, 1, latencySeconds);
      samples.push({
        round,
        target: t.name,
        many: many.r,
        one,
        proxyUs: many.proxyUs,
        appUs: many.appUs,
      });
    }
    process.stderr.write(`  round ${round + 1}/${ROUNDS} done\n`);
  }
  report(samples, targets, CONNECTIONS);

  if (LONG_SECONDS > 0) {
    const pid = router.child.pid as number;
    const rss = [rssKb(pid)];
    let requests = 0;
    let rpsSum = 0;
    const step = Math.min(10, LONG_SECONDS);
    for (let done = 0; done < LONG_SECONDS; done += step) {
      const r = await load(cpu('load'), router.url, CONNECTIONS, step);
      requests += r.requests;
      rpsSum += r.rps;
      rss.push(rssKb(pid));
    }
    const mean = rpsSum / (rss.length - 1);
    console.log(
      `router RSS (MiB) every ${step}s over ${LONG_SECONDS}s at ${CONNECTIONS} connections ` +
        `(${fmt(mean)} req/s, ${requests} requests): ${rss.map((k) => fmt(k / 1024, 1)).join(' → ')}`,
    );
  }
  stopAll();
  await new Promise((r) => setTimeout(r, 300)); // let the router flush its last lines
  const lines = execFileSync('wc', ['-l', routerLog], { encoding: 'utf8' }).trim().split(' ')[0];
  const head = Buffer.alloc(400);
  const fd = fs.openSync(routerLog, 'r');
  const n = fs.readSync(fd, head, 0, head.length, 0);
  fs.closeSync(fd);
  const sample = head.toString('latin1', 0, n).split('\n')[0];
  console.log(`router log: ${lines} lines written to a file, e.g.\n  ${sample}`);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
