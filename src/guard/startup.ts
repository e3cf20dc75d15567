/**
 * What the guard says once, when it starts in a process: that it is active (version, Node,
 * the options in force: how to check it on a real dyno), and, when the app was started by
 * npm, that npm will not wait for it on SIGTERM.
 *
 * `npm start` exits on SIGTERM without waiting for its child (the app). On Heroku the dyno's
 * main process is then gone and the dyno is torn down while the app is still draining, so the
 * guard's drain is cut short. The fix is `web: node …` in the Procfile, or `exec node …` in
 * the start script. The parent is read from /proc (Linux, as on a dyno); anywhere it cannot
 * be read, nothing is said.
 */

import { readFileSync } from 'node:fs';
import { EVENT } from '../core/guard-vocabulary.js';
import { packageVersion } from '../core/package-root.js';
import type { ServerState } from './state.js';

function version(): string {
  try {
    return packageVersion();
  } catch {
    return 'unknown';
  }
}

export function startupLines(st: ServerState): void {
  const o = st.options;
  st.out.line(
    'info',
    {
      event: EVENT.start,
      desc: 'h13 guard active',
      version: version(),
      node: process.version,
      pid: process.pid,
      keep_alive: o.keepAlive === false ? 'off' : `${o.keepAliveProfile}:${o.keepAlive}`,
      signals: o.signals.length === 0 ? 'none' : o.signals.join(','),
      late_window_ms: o.lateWindowMs,
      idle_quiet_ms: o.idleQuietMs,
      drain_timeout_ms: o.drainTimeoutMs,
      hook_timeout_ms: o.hookTimeoutMs,
      crash: o.crash,
      defer_crash_to_app: o.deferCrashToApp,
      crash_timeout_ms: o.crashTimeoutMs,
      exit: o.exit,
      request_id: o.requestId,
      context: o.context,
      client_errors: o.clientErrors,
      client_error_linger_ms: o.clientErrorLingerMs,
      client_error_linger_bytes: o.clientErrorLingerBytes,
      answer: o.answer,
    },
    'h13 guard active',
  );
  const launcher = npmAncestor(process.ppid);
  if (launcher !== null) {
    st.out.line(
      'warning',
      {
        event: EVENT.parent_process,
        desc: `started by ${launcher.name}, which exits on SIGTERM without waiting for the app: a restart kills the app mid-drain. Use "web: node --import h13/register <app>" in the Procfile, or "exec node …" in the start script`,
        parent: launcher.name,
        parent_pid: launcher.pid,
      },
      `started by ${launcher.name}`,
    );
  }
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'zsh']);

function argv(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    return raw.split('\0').filter((a) => a !== '');
  } catch {
    return null;
  }
}

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses; read after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1]);
    return Number.isInteger(ppid) && ppid > 1 ? ppid : null;
  } catch {
    return null;
  }
}

const base = (arg: string) => arg.slice(Math.max(arg.lastIndexOf('/'), arg.lastIndexOf('\\')) + 1);

/**
 * npm's own process: it sets its title to `npm start` / `npm run …` (one argv word), or it
 * shows as `npm`, `node …/npm-cli.js` (npx runs through the same code).
 */
export function isNpm(args: readonly string[]): boolean {
  const first = args[0] ?? '';
  if (/^np[mx](?: |$)/.test(first)) return true;
  return args.slice(0, 2).some((a) => ['npm', 'npx', 'npm-cli.js', 'npx-cli.js'].includes(base(a)));
}

/** The npm process above this one, looking through the shells npm runs scripts with. */
export function npmAncestor(start: number): { name: string; pid: number } | null {
  let pid: number | null = start;
  for (let depth = 0; depth < 4 && pid !== null && pid > 1; depth++) {
    const args = argv(pid);
    if (args === null || args.length === 0) return null;
    if (isNpm(args)) return { name: 'npm', pid };
    if (!SHELLS.has(base(args[0] as string))) return null;
    pid = parentOf(pid);
  }
  return null;
}
