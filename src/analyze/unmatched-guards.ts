/**
 * The guard's lines whose router line has not shown up (yet). The guard usually logs before
 * the router does, so its line waits here for the router error with the same request id;
 * one still unclaimed a window after its time becomes a diagnosis of its own (`guardOnly`),
 * which is what a log of the app's output alone gives.
 */

import type { Evidence } from './evidence.js';
import { LIMITS } from './limits.js';

export interface GuardSeen {
  readonly evidence: Evidence;
  readonly code: string;
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly stack: string;
}

export class UnmatchedGuards {
  /** By request id, oldest first (Map order: a repeated id keeps its first place). */
  private readonly byId = new Map<string, GuardSeen>();

  constructor(
    private readonly windowUs: number,
    /** A guard line given up on: it becomes a guard-only diagnosis. */
    private readonly onExpired: (g: GuardSeen) => void,
  ) {}

  add(g: GuardSeen): void {
    if (this.byId.size >= LIMITS.guardLines) this.expire(this.byId.keys().next().value as string);
    this.byId.set(g.requestId, g);
  }

  /** The guard line for a new router error's id, which then belongs to that error. */
  take(requestId: string): Evidence | undefined {
    const g = this.byId.get(requestId);
    if (g === undefined) return undefined;
    this.byId.delete(requestId);
    return g.evidence;
  }

  /** Lines whose window has closed by log time `due` (oldest first, up to the first open one). */
  expireDue(due: number): void {
    for (const [id, g] of this.byId) {
      if (g.evidence.micros + this.windowUs > due) break;
      this.expire(id);
    }
  }

  expireAll(): void {
    for (const id of [...this.byId.keys()]) this.expire(id);
  }

  private expire(id: string): void {
    const g = this.byId.get(id);
    if (g === undefined) return;
    this.byId.delete(id);
    this.onExpired(g);
  }
}

/** The request's method and path from a guard line (for grouping a guard-only diagnosis). */
export function guardRequest(message: string): { method: string; path: string } {
  const method = /(?:^| )method=(\S+)/.exec(message)?.[1] ?? '';
  const quoted = /(?:^| )path="((?:[^"\\]|\\.)*)"/.exec(message)?.[1];
  const path = quoted ?? /(?:^| )path=(\S+)/.exec(message)?.[1] ?? '';
  return { method, path };
}
