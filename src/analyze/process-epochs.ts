/**
 * Where each dyno's processes begin and end: evidence never crosses a restart. A request a
 * dyno's new process dropped is explained by what that process logged, never by the R14 or
 * the SIGTERM of the process before it (an H13 with `Error: boom` and `Process exited with
 * status 1` is a crash, whatever memory the previous process ran out of a minute earlier).
 *
 * A new process begins at `Starting process with command`, `State changed from ... to
 * starting` and `starting → up`; an old one ends at its `Process exited` or `... → crashed`.
 * A request that started before the new process was up is the old one's: the router sends
 * requests to a process only once it is up, and keeps sending some to the stopping one for a
 * moment after its SIGTERM (Heroku: "a request or two"; `h13 run --late-routing`). And a
 * restart may start the new process before the old one has exited (`h13 run` starts it as
 * soon as the old one is signalled; Heroku's preboot): its `Starting process` line then comes
 * right after the old one's SIGTERM. So for a request on the dyno the boundary is the latest
 * of: `starting → up` before the request started; `Starting process`/`→ starting` at least
 * LATE_US before it; an exit or crash before it (an end inside the request is its own
 * process's).
 */

import type { EvidenceKind } from './evidence.js';
import type { Windows } from './verdict.js';

/** Boundaries kept per dyno (lines arrive out of order by a little: a few suffice). */
const KEPT = 8;
/** Dynos followed (like the table of start commands). */
const MAX_DYNOS = 4096;

/** Requests routed to a stopping process this long after its SIGTERM are not expected. */
const LATE_US = 5_000_000;

const BEGINS = new Set<EvidenceKind>(['start', 'starting', 'up']);
const ENDS = new Set<EvidenceKind>(['exit', 'crash']);

/** Evidence kinds tied to the request itself (its id, its access line) or not to a process. */
const OWN_REQUEST = new Set<EvidenceKind>([
  'guard',
  'request-id',
  'access',
  'timeout-repeat',
  'release',
  // How the dyno is started: the same command for every process of it.
  'start',
]);

interface Marks {
  readonly micros: number[];
  /** How far before the request's start the mark must be: 0 (up, end) or LATE_US. */
  readonly leads: number[];
}

export class ProcessEpochs {
  private readonly dynos = new Map<string, Marks>();

  /** A dyno-manager event: kept when it begins or ends a process. */
  note(process: string, kind: EvidenceKind, micros: number): void {
    const begin = BEGINS.has(kind);
    if (!begin && !ENDS.has(kind)) return;
    let m = this.dynos.get(process);
    if (m === undefined) {
      if (this.dynos.size >= MAX_DYNOS) return;
      m = { micros: [], leads: [] };
      this.dynos.set(process, m);
    }
    if (m.micros.length >= KEPT) {
      m.micros.shift();
      m.leads.shift();
    }
    m.micros.push(micros);
    m.leads.push(begin && kind !== 'up' ? LATE_US : 0);
  }

  /** The time the process serving a request on `dyno` began (−∞: none seen). */
  boundary(dyno: string, w: Windows): number {
    const m = this.dynos.get(dyno);
    let b = Number.NEGATIVE_INFINITY;
    if (m === undefined) return b;
    for (let i = 0; i < m.micros.length; i++) {
      const t = m.micros[i] as number;
      if (t > b && t < w.requestStart - (m.leads[i] as number)) b = t;
    }
    return b;
  }
}

/** Whether evidence on the error's dyno comes from a process before `boundary`. */
export function beforeBoundary(
  kind: EvidenceKind,
  process: string,
  micros: number,
  dyno: string,
  boundary: number,
): boolean {
  return micros < boundary && process === dyno && !OWN_REQUEST.has(kind);
}
