/**
 * Diagnoses grouped code → cause → route with bounded memory: a fixed cap on groups (the
 * overflow is counted under one `(other routes)` group), a histogram per group for service
 * percentiles, a capped frame counter and a few sample diagnoses each.
 */

import { type CauseId, type Confidence, isNoise } from './causes.js';
import { Histogram } from './histogram.js';
import type { Diagnosis } from './types.js';

export const MAX_GROUPS = 2000;
export const OTHER_ROUTES = '(other routes)';
const MAX_DYNOS = 16;
const MAX_FRAMES = 64;
export const SAMPLES_PER_GROUP = 3;

export interface RouteGroup {
  readonly code: string;
  readonly cause: CauseId;
  readonly route: string;
  count: number;
  first: number;
  last: number;
  readonly dynos: Set<string>;
  readonly methods: Set<string>;
  readonly confidence: Record<Confidence, number>;
  readonly service: Histogram;
  readonly frames: Map<string, number>;
  readonly samples: Diagnosis[];
}

export class Aggregate {
  /** key: `code\0cause\0route`. */
  readonly groups = new Map<string, RouteGroup>();
  total = 0;
  readonly byCode = new Map<string, number>();
  /**
   * The same groups by code, then cause, then route: finding a diagnosis's group takes three
   * lookups of strings it already has instead of building and hashing a key per diagnosis.
   */
  private readonly index = new Map<string, Map<string, Map<string, RouteGroup>>>();

  add(d: Diagnosis): void {
    this.total++;
    this.byCode.set(d.code, (this.byCode.get(d.code) ?? 0) + 1);
    const g = this.groupOf(d);
    g.count++;
    if (d.micros < g.first) g.first = d.micros;
    if (d.micros > g.last) g.last = d.micros;
    if (d.dyno !== null && g.dynos.size < MAX_DYNOS) g.dynos.add(d.dyno);
    if (g.methods.size < 8 && !g.methods.has(d.method)) g.methods.add(d.method.slice(0, 16));
    g.confidence[d.confidence]++;
    if (d.serviceMs !== null) g.service.record(d.serviceMs);
    for (const f of d.frames) {
      const n = g.frames.get(f);
      if (n !== undefined) g.frames.set(f, n + 1);
      else if (g.frames.size < MAX_FRAMES) g.frames.set(f, 1);
    }
    if (g.samples.length < SAMPLES_PER_GROUP) g.samples.push(d);
  }

  /** The diagnosis's group, made on first use; past MAX_GROUPS new routes share one group. */
  private groupOf(d: Diagnosis): RouteGroup {
    let byCause = this.index.get(d.code);
    if (byCause === undefined) {
      byCause = new Map();
      this.index.set(d.code, byCause);
    }
    let byRoute = byCause.get(d.cause);
    if (byRoute === undefined) {
      byRoute = new Map();
      byCause.set(d.cause, byRoute);
    }
    let g = byRoute.get(d.route);
    if (g !== undefined) return g;
    const route = this.groups.size >= MAX_GROUPS ? OTHER_ROUTES : d.route;
    g = byRoute.get(route);
    if (g !== undefined) return g;
    g = {
      code: d.code,
      cause: d.cause,
      route,
      count: 0,
      first: d.micros,
      last: d.micros,
      dynos: new Set(),
      methods: new Set(),
      confidence: { high: 0, medium: 0, low: 0 },
      service: new Histogram(),
      frames: new Map(),
      samples: [],
    };
    byRoute.set(route, g);
    this.groups.set(`${d.code}\u0000${d.cause}\u0000${route}`, g);
    return g;
  }

  /** Groups sorted: errors before noise, then by count. */
  sorted(): RouteGroup[] {
    return [...this.groups.values()].sort((a, b) => {
      const na = isNoise(a.cause) ? 1 : 0;
      const nb = isNoise(b.cause) ? 1 : 0;
      return na - nb || b.count - a.count || a.code.localeCompare(b.code);
    });
  }
}

export function topFrames(g: RouteGroup, n = 5): Array<[string, number]> {
  return [...g.frames.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
}
