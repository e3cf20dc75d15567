/**
 * One decided error as a Diagnosis (what reports, groups and `--follow` print): the rules'
 * verdict, its proof in time order, the stack frames it shows and the request's route.
 */

import type { RouterRecord } from '../core/router-line.js';
import { decide } from './diagnose.js';
import { type Evidence, frameKey, parseGuardLine } from './evidence.js';
import { normaliseRoute } from './route.js';
import type { Diagnosis } from './types.js';
import type { GuardSeen } from './unmatched-guards.js';
import { guardCause, type Windows } from './verdict.js';

const MAX_FRAMES = 8;
const MAX_PATH = 2048;

export function diagnosisOf(
  r: RouterRecord,
  w: Windows,
  line: string,
  evidence: readonly Evidence[],
  releases: readonly Evidence[] = [],
): Diagnosis {
  const v = decide(r, w, evidence, releases);
  const proof = [...new Set(v.proof)].sort((a, b) => a.micros - b.micros);
  return {
    code: r.code as string,
    cause: v.cause,
    confidence: v.confidence,
    reason: v.reason,
    micros: w.t,
    dyno: r.dyno,
    method: r.method,
    path: r.path.length > MAX_PATH ? r.path.slice(0, MAX_PATH) : r.path,
    route: normaliseRoute(r.path),
    requestId: r.requestId,
    serviceMs: r.serviceMs,
    status: r.status,
    bytes: r.bytes,
    protocol: r.protocol,
    line,
    evidence: proof,
    frames: framesOf(proof),
    guardOnly: false,
    cut: r.cut === true,
  };
}

/** A guard line whose router line never came (app-side logs only). */
export function guardOnlyDiagnosis(g: GuardSeen): Diagnosis {
  const frames: string[] = [];
  addStackFrames(g.stack, frames);
  return {
    code: g.code,
    cause: guardCause(g.evidence.detail),
    confidence: 'high',
    reason: `the guard logged cause "${g.evidence.detail}" (no router line for this request id in the input)`,
    micros: g.evidence.micros,
    dyno: g.evidence.process,
    method: g.method,
    path: g.path,
    route: normaliseRoute(g.path),
    requestId: g.requestId,
    serviceMs: null,
    status: null,
    bytes: null,
    protocol: null,
    line: g.evidence.line,
    evidence: [g.evidence],
    frames: frames.slice(0, MAX_FRAMES),
    guardOnly: true,
    cut: false,
  };
}

function framesOf(proof: readonly Evidence[]): string[] {
  const frames: string[] = [];
  for (const e of proof) {
    if (e.kind === 'stack' && e.detail !== 'error' && !frames.includes(e.detail))
      frames.push(e.detail);
    if (e.kind === 'guard') addStackFrames(parseGuardLine(e.message)?.stack ?? '', frames, true);
  }
  return frames.slice(0, MAX_FRAMES);
}

/**
 * The frames of a guard's `stack=` field (its lines lost their indentation in logfmt, so
 * each is read as an indented frame line). `unique`: skip frames already in `out`.
 */
function addStackFrames(stack: string, out: string[], unique = false): void {
  for (const l of stack.split('\n')) {
    const f = frameKey(l.startsWith(' ') ? l : `    ${l}`);
    if (f !== null && !(unique && out.includes(f))) out.push(f);
  }
}
