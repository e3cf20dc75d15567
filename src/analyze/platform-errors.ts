/**
 * The platform's own errors (`heroku[web.1]: Error R14 (Memory quota exceeded)`,
 * `heroku[logplex]: Error L10 (...)`): first-class in the report, counted by code next to the
 * router's, shown with their line and usable in `--fail-on`. Each is a diagnosis of its own,
 * with the cause its code names; its route is NO_ROUTE (it has no request) and its dyno the
 * process that logged it.
 */

import type { CauseId } from './causes.js';
import type { Evidence } from './evidence.js';
import { NO_ROUTE } from './route.js';
import type { Diagnosis } from './types.js';

export const PLATFORM_CODES = {
  R10: { desc: 'Boot timeout', cause: 'boot-failure' },
  R12: { desc: 'Exit timeout', cause: 'router-code' },
  R13: { desc: 'Attach error', cause: 'router-code' },
  R14: { desc: 'Memory quota exceeded', cause: 'out-of-memory' },
  R15: { desc: 'Memory quota vastly exceeded', cause: 'out-of-memory' },
  L10: { desc: 'Drain buffer overflow', cause: 'router-code' },
} as const satisfies Record<string, { desc: string; cause: CauseId }>;

export type PlatformCode = keyof typeof PLATFORM_CODES;

export function isPlatformCode(code: string): code is PlatformCode {
  return Object.hasOwn(PLATFORM_CODES, code);
}

/** A platform error line as a diagnosis: the line is its own evidence. */
export function platformDiagnosis(code: PlatformCode, e: Evidence): Diagnosis {
  const info = PLATFORM_CODES[code];
  return {
    code,
    cause: info.cause,
    confidence: 'high',
    reason: `the platform logged ${code} (${info.desc}) on ${e.process}: ${e.message.trim().slice(0, 200)}`,
    micros: e.micros,
    dyno: e.process,
    method: '',
    path: '',
    route: NO_ROUTE,
    requestId: null,
    serviceMs: null,
    status: null,
    bytes: null,
    protocol: null,
    line: e.line,
    evidence: [e],
    frames: [],
    guardOnly: false,
    cut: false,
  };
}
