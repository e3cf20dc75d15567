/**
 * CPU seconds of a server and all its processes, for the PostgreSQL the drain writes to: on a
 * 2-core machine the database's own CPU competes with the drain, so a change that moves work
 * from the drain to the server must show in both. PostgreSQL runs a process per session; the
 * postmaster reaps the ones that end, so their time is in its cutime/cstime, and the live
 * ones' in their own stat. A delta of this sum over a run is the server's CPU in that run.
 */

import { readdirSync, readFileSync } from 'node:fs';

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // ended between the listing and the read
  }
}

/** utime+stime (+ cutime+cstime of reaped children when `reaped`), in seconds (100 ticks/s). */
function ticks(f: readonly string[], reaped: boolean): number {
  const own = Number(f[11]) + Number(f[12]);
  return (reaped ? own + Number(f[13]) + Number(f[14]) : own) / 100;
}

export function treeCpuSeconds(rootPid: number): number {
  const root = statFields(rootPid);
  if (root === undefined) throw new Error(`no process ${rootPid}`);
  let total = ticks(root, true);
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    // Field 4 of stat (index 1 here) is the parent pid.
    if (f !== undefined && Number(f[1]) === rootPid) total += ticks(f, false);
  }
  return total;
}
