/**
 * Process plumbing for the router benchmark: start a server pinned to a CPU set, wait for its
 * ready line, and read the CPU time and RSS of a process (and its children: nginx's worker)
 * from /proc, so each contender's cost per request is measured, not inferred from req/s.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const file = path.join(dir, cmd);
    if (fs.existsSync(file)) return file;
  }
  return null;
}

/**
 * `taskset -c CPUS command...` when a CPU set is given. taskset execs the command, so the pid
 * is the server's own pid.
 */
export function pinned(cpus: string | null, command: string, argv: string[]): [string, string[]] {
  return cpus === null ? [command, argv] : ['taskset', ['-c', cpus, command, ...argv]];
}

export interface Started {
  readonly child: ChildProcess;
  readonly url: string;
}

/** Spawn and wait for a `... (http://HOST:PORT)` ready line on stdout or stderr. */
export function start(
  cpus: string | null,
  command: string,
  argv: string[],
  ready: RegExp,
  stdoutFile: string | null = null,
): Promise<Started> {
  const out = stdoutFile === null ? 'pipe' : fs.openSync(stdoutFile, 'w');
  const [cmd, args] = pinned(cpus, command, argv);
  const child = spawn(cmd, args, { stdio: ['ignore', out, 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${command} not ready: ${seen}`)), 10_000);
    const onData = (d: Buffer) => {
      seen += d.toString();
      const m = ready.exec(seen);
      if (m === null) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.stdout?.resume();
      child.stderr?.resume();
      resolve({ child, url: m[1] as string });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  });
}

/** Spawn a server that prints nothing when ready (nginx); the caller polls it. */
export function spawnPinned(cpus: string | null, command: string, argv: string[]): ChildProcess {
  const [cmd, args] = pinned(cpus, command, argv);
  const child = spawn(cmd, args, { stdio: 'ignore' });
  children.push(child);
  return child;
}

export function stopAll(): void {
  for (const c of children) c.kill('SIGTERM');
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function statFields(pid: number): string[] | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces; fields resume after its closing parenthesis.
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** Pids whose parent is `pid` (nginx's worker under its master). */
function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (f !== null && Number(f[1]) === pid) out.push(Number(entry));
  }
  return out;
}

/** User + system CPU seconds used so far by `pid` and its live children. */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of [pid, ...childPids(pid)]) {
    const f = statFields(p);
    if (f !== null) ticks += Number(f[11]) + Number(f[12]); // utime, stime
  }
  return ticks / TICKS_PER_SECOND;
}

export function rssKb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}
