/**
 * The named phases of one proxied request and the transitions between them, as data
 * (undici's request state machine, made explicit). Every phase change goes through
 * `nextPhase`, so an order the table does not allow is a bug that surfaces as
 * H13_ERR_PHASE instead of a silently wrong router line. docs/router.md shows this table.
 */

import { H13Error } from '../core/errors.js';

export const PHASES = [
  /** The head is parsed; nothing decided yet. */
  'head',
  /** Choosing a dyno. */
  'routing',
  /** No dyno is up but one is starting: waiting for it (H20 past bootQueue). */
  'queued',
  /** TCP connect to a dyno (or taking a pooled connection); retries stay in this phase. */
  'connecting',
  /** Head written to the dyno, request body still being relayed (H28 when the client stalls). */
  'sending',
  /** Whole request written, no response byte yet (H12 past firstByte). */
  'awaiting',
  /** At least one response byte arrived (H15 idle window; H17/H18/H25 faults). */
  'streaming',
  /** After a relayed 101: bytes piped both ways under the idle window. */
  'upgraded',
  /** Ended normally: one `at=info` line. */
  'done',
  /** Ended with an error code: one `at=error|warning` line. */
  'failed',
] as const;

export type Phase = (typeof PHASES)[number];

/** Which phase may follow which. `failed` is reachable from every live phase. */
export const TRANSITIONS: Readonly<Record<Phase, readonly Phase[]>> = {
  head: ['routing', 'failed'],
  routing: ['queued', 'connecting', 'failed'],
  queued: ['routing', 'failed'],
  connecting: ['connecting', 'sending', 'failed'],
  // A dyno may answer before the request body is complete (an early 413, a rejected upload).
  // Back to connecting: a safe request whose pooled connection closed before any response
  // byte is retried once on a fresh connection (the Router 2.0 keep-alive race).
  sending: ['awaiting', 'streaming', 'connecting', 'failed'],
  awaiting: ['streaming', 'connecting', 'failed'],
  streaming: ['done', 'upgraded', 'failed'],
  upgraded: ['done', 'failed'],
  done: [],
  failed: [],
};

export function isTerminal(phase: Phase): boolean {
  return phase === 'done' || phase === 'failed';
}

/** The phase after `from` → `to`, or H13_ERR_PHASE when the table forbids it. */
export function nextPhase(from: Phase, to: Phase): Phase {
  if (!TRANSITIONS[from].includes(to)) {
    throw new H13Error('H13_ERR_PHASE', `router request phase ${from} -> ${to} is not allowed`);
  }
  return to;
}
