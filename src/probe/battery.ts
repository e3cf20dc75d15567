/**
 * The bad-request battery: every case in run order, rendered for a target. The seed's
 * `GET ?invalid=request` is the first case.
 */

import { BODY_CASES } from './battery-body.js';
import { SYNTAX_CASES } from './battery-syntax.js';
import type { CaseDef } from './battery-types.js';

export const BATTERY: readonly CaseDef[] = [...SYNTAX_CASES, ...BODY_CASES];

export interface RenderTarget {
  /** The Host header value (host[:port]). */
  readonly hostHeader: string;
  /** The request target for cases that use the user's route. */
  readonly path: string;
}

/** The case's bytes with `{host}` and `{path}` filled in. */
export function renderCase(def: CaseDef, target: RenderTarget): Buffer {
  const text = def.send.replaceAll('{host}', target.hostHeader).replaceAll('{path}', target.path);
  return Buffer.from(text, 'latin1');
}

/** The cases of the named groups (all when `groups` is empty), in battery order. */
export function selectCases(groups: readonly string[]): readonly CaseDef[] {
  return groups.length === 0 ? BATTERY : BATTERY.filter((c) => groups.includes(c.group));
}
