/**
 * Router benchmark (not a test): requests/s and latency of a trivial node:http app reached
 * directly, through `h13 router` (Router 2.0, every Heroku behaviour on, one router line per
 * request written to /dev/null), through http-proxy (keep-alive agent) and through nginx
 * (when installed), all in the same run, printed with ratios. Also the router's RSS before
 * and after the load.
 *
 * Load tool: wrk when installed, otherwise autocannon. Each server is its own process.
 *   node build/bench/router/bench.js [--seconds 10] [--connections 50]
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(here, '../../src/cli/main.js');
const args = process.argv.slice(2);
const opt = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const SECONDS = opt('seconds', 10);
const CONNECTIONS = opt('connections', 50);

const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const file = path.join(dir, cmd);
    if (fs.existsSync(file)) return file;
  }
  return null;
}

function start(
  command: string,
  argv: string[],
  ready: RegExp,
  stdout: 'pipe' | 'null' = 'pipe',
): Promise<{ child: ChildProcess; url: string }> {
  const out = stdout === 'pipe' ? 'pipe' : fs.openSync('/dev/null', 'w');
  const child = spawn(command, argv, { stdio: ['ignore', out, 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${command} not ready: ${seen}`)), 10_000);
    const onData = (d: Buffer) => {
      seen += d.toString();
      const m = ready.exec(seen);
      if (m !== null) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stderr?.off('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve({ child, url: m[1] as string });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  });
}

function rssKb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

interface Result {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

function wrk(url: string, connections: number, seconds: number): Result {
  const out = execFileSync(
    'wrk',
    ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', `${url}/`],
    { encoding: 'utf8' },
  );
  const unit = (v: string, u: string) =>
    Number(v) * (u === 'us' ? 0.001 : u === 's' ? 1000 : u === 'm' ? 60_000 : 1);
  const p = (pct: string) => {
    const m = new RegExp(`\\s${pct}%\\s+([\\d.]+)(us|ms|s|m)`).exec(out);
    return m === null ? Number.NaN : unit(m[1] as string, m[2] as string);
  };
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(out);
  if (errors !== null) console.error(`  wrk reported: ${errors[0]}`);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN),
    p50Ms: p('50'),
    p99Ms: p('99'),
  };
}

async function autocannon(url: string, connections: number, seconds: number): Promise<Result> {
  const moduleName = 'autocannon'; // untyped package: loaded by name
  const { default: run } = (await import(moduleName)) as {
    default: (o: object) => Promise<{
      requests: { average: number };
      latency: { p50: number; p99: number };
    }>;
  };
  const r = await run({ url, connections, duration: seconds });
  return { rps: r.requests.average, p50Ms: r.latency.p50, p99Ms: r.latency.p99 };
}

async function load(url: string, connections: number, seconds: number): Promise<Result> {
  return which('wrk') !== null
    ? wrk(url, connections, seconds)
    : autocannon(url, connections, seconds);
}

function nginxConfig(dir: string, upstream: string, port: number): string {
  const u = new URL(upstream);
  const conf = `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log /dev/null;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream app { server ${u.hostname}:${u.port}; keepalive 128; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}`;
  const file = path.join(dir, 'nginx.conf');
  fs.writeFileSync(file, conf);
  return file;
}

async function main(): Promise<void> {
  console.log(
    `h13 router benchmark: ${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}, ` +
      `load tool ${which('wrk') !== null ? 'wrk' : 'autocannon'}, ${SECONDS}s per run`,
  );
  const app = await start(
    process.execPath,
    [path.join(here, 'trivial-app.js')],
    /listening on (http:\/\/\S+)/,
  );
  const router = await start(
    process.execPath,
    [CLI, 'router', '--to', app.url, '--port', '0'],
    /router listening on (http:\/\/\S+)/,
    'null', // every router line is written, to /dev/null
  );
  const proxy = await start(
    process.execPath,
    [path.join(here, 'http-proxy-server.js'), app.url],
    /listening on (http:\/\/\S+)/,
  );
  const targets: Array<{ name: string; url: string }> = [
    { name: 'direct', url: app.url },
    { name: 'h13 router', url: router.url },
    { name: 'http-proxy', url: proxy.url },
  ];
  const nginx = which('nginx');
  let nginxDir: string | null = null;
  if (nginx !== null) {
    nginxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'h13-bench-nginx-'));
    // nginx cannot pick a free port itself: take one, release it, hand it over.
    const net = await import('node:net');
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const file = nginxConfig(nginxDir, app.url, port);
    const child = spawn(nginx, ['-c', file, '-p', nginxDir], { stdio: 'ignore' });
    children.push(child);
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      try {
        await fetch(`${url}/`);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    targets.push({ name: 'nginx', url });
  }

  // Warm every path (JIT, pools), then measure.
  for (const t of targets) await load(t.url, CONNECTIONS, 2);
  const rssBefore = rssKb(router.child.pid as number);
  const results = new Map<string, { many: Result; one: Result }>();
  for (const t of targets) {
    const many = await load(t.url, CONNECTIONS, SECONDS);
    const one = await load(t.url, 1, Math.max(3, Math.round(SECONDS / 2)));
    results.set(t.name, { many, one });
  }
  const long = await load(router.url, CONNECTIONS, SECONDS * 3);
  const rssAfter = rssKb(router.child.pid as number);

  const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  console.log('');
  console.log(
    `${'target'.padEnd(12)} ${`req/s @${CONNECTIONS}`.padStart(12)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'req/s @1'.padStart(10)} ${'p50 ms @1'.padStart(10)}`,
  );
  for (const [name, r] of results) {
    console.log(
      `${name.padEnd(12)} ${fmt(r.many.rps).padStart(12)} ${fmt(r.many.p50Ms, 3).padStart(8)} ${fmt(r.many.p99Ms, 3).padStart(8)} ${fmt(r.one.rps).padStart(10)} ${fmt(r.one.p50Ms, 3).padStart(10)}`,
    );
  }
  const h = results.get('h13 router');
  const d = results.get('direct');
  const hp = results.get('http-proxy');
  const ng = results.get('nginx');
  console.log('');
  if (h !== undefined && d !== undefined) {
    console.log(`router / direct req/s @${CONNECTIONS}: ${fmt(h.many.rps / d.many.rps, 2)}`);
    console.log(
      `router added median latency @1: ${fmt(h.one.p50Ms - d.one.p50Ms, 3)} ms (target <= 0.15)`,
    );
  }
  if (h !== undefined && hp !== undefined)
    console.log(
      `router / http-proxy req/s @${CONNECTIONS}: ${fmt(h.many.rps / hp.many.rps, 2)} (target >= 2.5)`,
    );
  if (h !== undefined && ng !== undefined)
    console.log(
      `router / nginx req/s @${CONNECTIONS}: ${fmt(h.many.rps / ng.many.rps, 2)} (target >= 0.75)`,
    );
  console.log(
    `router RSS: ${fmt(rssBefore / 1024, 1)} MiB before, ${fmt(rssAfter / 1024, 1)} MiB after ${SECONDS * 3}s more at ${fmt(long.rps)} req/s`,
  );
  for (const c of children) c.kill('SIGTERM');
  if (nginxDir !== null) fs.rmSync(nginxDir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
