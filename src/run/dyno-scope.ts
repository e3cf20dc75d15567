/**
 * What holds every process of one dyno, so that nothing of it outlives the dyno or `h13 run`
 * (on Heroku everything in a dyno dies with it). Two ways, best first:
 *
 * - `pid-namespace` (Linux, `unshare` from util-linux, as root or with user namespaces): the
 *   dyno is a PID namespace whose PID 1 is a small init (INIT below). When a namespace's PID 1
 *   exits the kernel kills every process in it, including children that called setsid() or were
 *   spawned `detached`. The init starts the main process, relays signals from h13 to every
 *   process of the namespace (`kill -1`, which is what "Stopping all processes" means), and
 *   exits when the main process exits, as Heroku's dyno manager ends a dyno when its main
 *   process exits. h13 talks to it through a pipe: a signal name per line; end of file (h13
 *   is gone, even by SIGKILL) kills everything. PR_SET_PDEATHSIG would do the last part, but
 *   it is not reachable from Node without an addon; a pipe's end of file is.
 * - `process-group` (fallback): the main process leads a process group of its own; h13 signals
 *   the group, and a watchdog (`sh` reading a pipe from h13) SIGKILLs the group when h13 goes
 *   away. A child that leaves the group (setsid, `detached: true`) escapes both: said in
 *   docs/run.md.
 */

import { spawnSync } from 'node:child_process';

export type Isolation = 'pid-namespace' | 'process-group';

/**
 * The dyno's init, POSIX sh (dash or bash), PID 1 of the namespace. fd 0: h13's control pipe;
 * fd 3: a report pipe to h13. `"$@"` is the main process's argv. Its exit status is the main
 * process's (128 + N for signal N, as Heroku reports it).
 */
export const INIT = [
  // kill -1 outside a namespace would signal every process the user owns: refuse.
  '[ "$$" = 1 ] || { echo "h13-dyno: not PID 1 of a PID namespace" >&2; exit 125; }',
  'exec 4<&0 0</dev/null',
  '"$@" 3>&- 4<&- &',
  'main=$!',
  '( exec 3>&-',
  '  while read -r s <&4; do kill -s "$s" -- -1 2>/dev/null; done',
  '  kill -s KILL -- -1 2>/dev/null ) &',
  'reader=$!',
  'exec 4<&-',
  // 2>/dev/null: sh would print "Terminated" for a main process ended by a signal, a line
  // that would show as the app's own output (Heroku writes no such line).
  'wait "$main" 2>/dev/null',
  'status=$?',
  'kill -s KILL "$reader" 2>/dev/null',
  'wait "$reader" 2>/dev/null',
  // Anything left but this init is a process the main process left behind: report it, then
  // end it (the kernel would when this init exits; this makes it explicit and first).
  'if kill -s 0 -- -1 2>/dev/null; then echo "left $status" >&3; kill -s KILL -- -1 2>/dev/null; fi',
  'exit "$status"',
].join('\n');

/** The watchdog of a process group: `done` on its pipe ends it quietly; end of file kills. */
export function watchdogScript(pgid: number): string {
  return `read -r line; [ "$line" = done ] || kill -s KILL -- -${pgid} 2>/dev/null`;
}

function unshareFlags(): string[] {
  const root = process.getuid?.() === 0;
  return [...(root ? [] : ['--user', '--map-current-user']), '--pid', '--fork', '--kill-child'];
}

let detected: Isolation | null = null;

/** The best isolation this machine allows, tried once (a real `unshare ... true`). */
export function detectIsolation(): Isolation {
  if (detected !== null) return detected;
  detected = 'process-group';
  if (process.platform === 'linux') {
    const r = spawnSync('unshare', [...unshareFlags(), 'true'], {
      stdio: 'ignore',
      timeout: 5000,
    });
    if (r.status === 0) detected = 'pid-namespace';
  }
  return detected;
}

/** argv that starts `main` as the init-supervised main process of a new PID namespace. */
export function namespaceArgv(main: readonly string[]): string[] {
  return ['unshare', ...unshareFlags(), '/bin/sh', '-c', INIT, 'h13-dyno', ...main];
}
