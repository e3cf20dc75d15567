/**
 * The contract between the router and whoever runs the dynos (the dyno manager of `h13 run`,
 * or a fixed list for `h13 router --to URL`). The router only reads it; the manager writes it.
 *
 * States follow Heroku's: `starting` (process spawned, port not yet accepting), `up`
 * (routable), `crashed` (exited; waiting for a restart), `stopping` (SIGTERM sent; no new
 * requests, except during `lateRoutingMs` after the signal, which emulates the router still
 * routing "a request or two" to a dyno it has just told to stop), `down` (gone for good).
 */

import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';

export const DYNO_STATES = ['starting', 'up', 'crashed', 'stopping', 'down'] as const;
export type DynoState = (typeof DYNO_STATES)[number];

export interface Dyno {
  /** `web.1`, `web.2`, ... as logged in `dyno=`. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly state: DynoState;
  /** performance.now() when the dyno entered `stopping`; null otherwise. */
  readonly stoppingSince: number | null;
}

/**
 * The live set of dynos. `change` fires whenever a dyno is added, removed or changes state, so
 * requests queued for a booting app (H20 after 75 s) can go as soon as one is up.
 */
export class DynoTable extends EventEmitter<{ change: [] }> {
  #dynos: Dyno[] = [];

  list(): readonly Dyno[] {
    return this.#dynos;
  }

  /** Add or replace the dyno with this name. */
  set(dyno: Omit<Dyno, 'stoppingSince'> & { stoppingSince?: number | null }): void {
    const next: Dyno = {
      ...dyno,
      stoppingSince: dyno.state === 'stopping' ? (dyno.stoppingSince ?? performance.now()) : null,
    };
    const i = this.#dynos.findIndex((d) => d.name === dyno.name && d.port === dyno.port);
    if (i >= 0) this.#dynos[i] = next;
    else this.#dynos = [...this.#dynos, next];
    this.emit('change');
  }

  setState(name: string, port: number, state: DynoState): void {
    const current = this.#dynos.find((d) => d.name === name && d.port === port);
    if (current === undefined || current.state === state) return;
    this.set({ ...current, state, stoppingSince: state === 'stopping' ? performance.now() : null });
  }

  remove(name: string, port: number): void {
    this.#dynos = this.#dynos.filter((d) => !(d.name === name && d.port === port));
    this.emit('change');
  }
}

/** A fixed table for `h13 router --to URL...`: every dyno is up, always. */
export function staticDynos(targets: ReadonlyArray<{ host: string; port: number }>): DynoTable {
  const table = new DynoTable();
  for (const [i, t] of targets.entries()) {
    table.set({ name: `web.${i + 1}`, host: t.host, port: t.port, state: 'up' });
  }
  return table;
}
