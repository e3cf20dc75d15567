/**
 * Which dyno a request goes to (spec §1–2). Round-robin over the routable dynos: `up`, plus
 * `stopping` dynos within `lateRouting` of their SIGTERM (Heroku still routes "a request or
 * two" to a dyno it has just told to stop). Round-robin rather than random so tests and demos
 * are repeatable; Heroku's choice is random, which over many requests spreads the same way.
 *
 * A dyno that refused or timed out a connect is quarantined for `quarantine` ms and skipped
 * while another is available; when every routable dyno is quarantined they are tried anyway,
 * so the request ends as H21/H19 instead of waiting (Heroku's H99 after 75 s of quarantine is
 * not emulated).
 */

import { performance } from 'node:perf_hooks';
import type { Dyno, DynoTable } from './dynos.js';

/** What routing decided when it found no dyno to try. */
export type NoDyno = 'queue' | 'H10' | 'H14';

export function dynoKey(dyno: Pick<Dyno, 'host' | 'port'>): string {
  return `${dyno.host}:${dyno.port}`;
}

export class Balancer {
  readonly #table: DynoTable;
  readonly #lateRoutingMs: number;
  readonly #quarantineMs: number;
  readonly #quarantined = new Map<string, number>();
  #next = 0;

  constructor(table: DynoTable, lateRoutingMs: number, quarantineMs: number) {
    this.#table = table;
    this.#lateRoutingMs = lateRoutingMs;
    this.#quarantineMs = quarantineMs;
  }

  routable(dyno: Dyno, now: number): boolean {
    if (dyno.state === 'up') return true;
    return (
      dyno.state === 'stopping' &&
      dyno.stoppingSince !== null &&
      now - dyno.stoppingSince < this.#lateRoutingMs
    );
  }

  /** Dynos that can take a request now. */
  routableCount(): number {
    const now = performance.now();
    let n = 0;
    for (const d of this.#table.list()) if (this.routable(d, now)) n++;
    return n;
  }

  /** How many distinct dynos a request may try before H19/H21: at most 10 (spec §2). */
  attemptLimit(): number {
    const now = performance.now();
    let n = 0;
    for (const d of this.#table.list()) if (this.routable(d, now)) n++;
    return Math.min(10, Math.max(1, n));
  }

  /**
   * The next dyno to try, skipping `tried` (names already tried by this request), or why
   * there is none.
   */
  pick(tried: readonly string[] | null): Dyno | NoDyno {
    const list = this.#table.list();
    const n = list.length;
    const now = performance.now();
    let fallback: Dyno | null = null;
    for (let i = 0; i < n; i++) {
      const index = (this.#next + i) % n;
      const dyno = list[index] as Dyno;
      if (!this.routable(dyno, now)) continue;
      if (tried?.includes(dyno.name)) continue;
      if (this.#isQuarantined(dyno, now)) {
        fallback ??= dyno;
        continue;
      }
      this.#next = index + 1;
      return dyno;
    }
    if (fallback !== null) return fallback;
    if (tried !== null && tried.length > 0) return 'H14'; // callers stop before this
    let starting = false;
    let crashed = false;
    for (const d of list) {
      if (d.state === 'starting') starting = true;
      else if (d.state === 'crashed' || d.state === 'stopping') crashed = true;
    }
    if (starting) return 'queue';
    return crashed ? 'H10' : 'H14';
  }

  quarantine(dyno: Dyno): void {
    if (this.#quarantineMs > 0)
      this.#quarantined.set(dynoKey(dyno), performance.now() + this.#quarantineMs);
  }

  #isQuarantined(dyno: Dyno, now: number): boolean {
    if (this.#quarantined.size === 0) return false;
    const key = dynoKey(dyno);
    const until = this.#quarantined.get(key);
    if (until === undefined) return false;
    if (until <= now) {
      this.#quarantined.delete(key);
      return false;
    }
    return true;
  }
}
