/**
 * The analysis as plain data: the `--json` document (schema `h13.analyze/1`, documented in
 * docs/analyze.md) and the model the terminal and HTML reports are drawn from.
 */

import { isRouterCodeName, ROUTER_CODES } from '../core/codes.js';
import { formatTimestamp } from '../core/heroku-log.js';
import { type RouteGroup, topFrames } from './aggregate.js';
import type { AnalysisResult } from './analyzer.js';
import { CAUSES, type CauseId, CODE_FIXES, type Confidence, isNoise } from './causes.js';
import type { Evidence } from './evidence.js';
import { isPlatformCode, PLATFORM_CODES } from './platform-errors.js';
import { type Diagnosis, type InputStats, UNTIMED_US } from './types.js';

export const SCHEMA = 'h13.analyze/1';
export const DIAGNOSIS_SCHEMA = 'h13.analyze.diagnosis/1';

/** No time for lines that had none (UNTIMED_US) or for nothing read. */
const iso = (micros: number): string | null =>
  Number.isFinite(micros) && micros >= UNTIMED_US ? formatTimestamp(micros) : null;

export interface EvidenceJson {
  kind: string;
  time: string | null;
  process: string;
  detail: string;
  line: string;
}

export interface DiagnosisJson {
  code: string;
  cause: CauseId;
  confidence: Confidence;
  reason: string;
  time: string | null;
  requestId: string | null;
  method: string;
  path: string;
  route: string;
  dyno: string | null;
  serviceMs: number | null;
  status: number | null;
  bytes: number | null;
  protocol: string | null;
  guardOnly: boolean;
  cut: boolean;
  line: string;
  frames: string[];
  evidence: EvidenceJson[];
}

export interface GroupJson {
  code: string;
  desc: string;
  cause: CauseId;
  title: string;
  noise: boolean;
  route: string;
  count: number;
  confidence: Record<Confidence, number>;
  firstSeen: string | null;
  lastSeen: string | null;
  dynos: string[];
  methods: string[];
  serviceMs: { count: number; p50: number | null; p95: number | null; max: number | null };
  topFrames: Array<{ frame: string; count: number }>;
  fix: string;
  guard: string | null;
  samples: DiagnosisJson[];
}

export interface CauseRollup {
  code: string;
  cause: CauseId;
  title: string;
  count: number;
  noise: boolean;
  explain: string;
  fix: string;
  guard: string | null;
}

export interface ReportJson {
  schema: typeof SCHEMA;
  input: Omit<InputStats, 'firstMicros' | 'lastMicros'> & {
    firstSeen: string | null;
    lastSeen: string | null;
  };
  /**
   * errors: router errors the app must look at; noise: client-side ones; platform: the
   * platform's own (R10-R15, L10). byCode counts every code, router and platform.
   */
  totals: { errors: number; noise: number; platform: number; byCode: Record<string, number> };
  causes: CauseRollup[];
  /**
   * Error rates: router errors (not client-side, not platform) over router requests, in all,
   * per route (the routes with errors, most errors first) and per timeline bucket (null where
   * a bucket had no request).
   */
  rates: {
    requests: number;
    errors: number;
    rate: number | null;
    byRoute: Array<{ route: string; requests: number; errors: number; rate: number | null }>;
    overTime: Array<number | null>;
    peak: { time: string | null; requests: number; errors: number; rate: number } | null;
  };
  groups: GroupJson[];
  timeline: {
    start: string | null;
    bucketSeconds: number;
    requests: number[];
    errors: Record<string, number[]>;
    markers: Array<{ time: string | null; kind: string; process: string; detail: string }>;
    droppedMarkers: number;
  };
}

export function descOf(code: string): string {
  if (isRouterCodeName(code)) return ROUTER_CODES[code].desc;
  return isPlatformCode(code) ? PLATFORM_CODES[code].desc : code;
}

export function fixOf(code: string, cause: CauseId): string {
  if (cause === 'router-code') return CODE_FIXES[code] ?? CAUSES[cause].fix;
  return CAUSES[cause].fix;
}

export function evidenceJson(e: Evidence): EvidenceJson {
  return { kind: e.kind, time: iso(e.micros), process: e.process, detail: e.detail, line: e.line };
}

export function diagnosisJson(d: Diagnosis): DiagnosisJson {
  return {
    code: d.code,
    cause: d.cause,
    confidence: d.confidence,
    reason: d.reason,
    time: iso(d.micros),
    requestId: d.requestId,
    method: d.method,
    path: d.path,
    route: d.route,
    dyno: d.dyno,
    serviceMs: d.serviceMs,
    status: d.status,
    bytes: d.bytes,
    protocol: d.protocol,
    guardOnly: d.guardOnly,
    cut: d.cut,
    line: d.line,
    frames: [...d.frames],
    evidence: d.evidence.map(evidenceJson),
  };
}

function groupJson(g: RouteGroup): GroupJson {
  const info = CAUSES[g.cause];
  return {
    code: g.code,
    desc: descOf(g.code),
    cause: g.cause,
    title: info.title,
    noise: isNoise(g.cause),
    route: g.route,
    count: g.count,
    confidence: { ...g.confidence },
    firstSeen: iso(g.first),
    lastSeen: iso(g.last),
    dynos: [...g.dynos].sort(),
    methods: [...g.methods],
    serviceMs: {
      count: g.service.count,
      p50: g.service.percentile(50),
      p95: g.service.percentile(95),
      max: g.service.count === 0 ? null : g.service.max,
    },
    topFrames: topFrames(g).map(([frame, count]) => ({ frame, count })),
    fix: fixOf(g.code, g.cause),
    guard: info.guard,
    samples: g.samples.map(diagnosisJson),
  };
}

export function buildReport(result: AnalysisResult): ReportJson {
  const { stats, aggregate, timeline } = result;
  const groups = aggregate.sorted().map(groupJson);
  const rollup = new Map<string, CauseRollup>();
  let noise = 0;
  let platform = 0;
  for (const g of groups) {
    if (g.noise) noise += g.count;
    else if (isPlatformCode(g.code)) platform += g.count;
    const key = `${g.code} ${g.cause}`;
    const r = rollup.get(key);
    if (r !== undefined) r.count += g.count;
    else {
      const info = CAUSES[g.cause];
      rollup.set(key, {
        code: g.code,
        cause: g.cause,
        title: info.title,
        count: g.count,
        noise: g.noise,
        explain: info.explain,
        fix: g.fix,
        guard: info.guard,
      });
    }
  }
  const causes = [...rollup.values()].sort(
    (a, b) => Number(a.noise) - Number(b.noise) || b.count - a.count,
  );
  const rates = ratesOf(result, groups);
  const { firstMicros, lastMicros, ...rest } = stats;
  const errors: Record<string, number[]> = {};
  for (const [code, series] of [...timeline.series.entries()].sort()) errors[code] = series;
  return {
    schema: SCHEMA,
    input: { ...rest, firstSeen: iso(firstMicros), lastSeen: iso(lastMicros) },
    totals: {
      errors: aggregate.total - noise - platform,
      noise,
      platform,
      byCode: Object.fromEntries([...aggregate.byCode.entries()].sort()),
    },
    causes,
    rates,
    groups,
    timeline: {
      start: iso(timeline.start),
      bucketSeconds: timeline.width / 1_000_000,
      requests: timeline.requests,
      errors,
      markers: timeline.markers.map((m) => ({
        time: iso(m.micros),
        kind: m.kind,
        process: m.process,
        detail: m.detail,
      })),
      droppedMarkers: timeline.droppedMarkers,
    },
  };
}

const rateOf = (errors: number, requests: number): number | null =>
  requests === 0 ? null : Math.round((errors / requests) * 1e6) / 1e6;

const MAX_RATE_ROUTES = 50;

function ratesOf(result: AnalysisResult, groups: readonly GroupJson[]): ReportJson['rates'] {
  const { timeline, routes } = result;
  const errorsByRoute = new Map<string, number>();
  let errors = 0;
  for (const g of groups) {
    if (g.noise || isPlatformCode(g.code)) continue;
    errors += g.count;
    errorsByRoute.set(g.route, (errorsByRoute.get(g.route) ?? 0) + g.count);
  }
  const requestsByRoute = routes.totals();
  const byRoute = [...errorsByRoute.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, MAX_RATE_ROUTES)
    .map(([route, n]) => {
      const requests = requestsByRoute.get(route) ?? 0;
      return { route, requests, errors: n, rate: rateOf(n, requests) };
    });
  const overTime: Array<number | null> = [];
  let peak: ReportJson['rates']['peak'] = null;
  // A code counts in the rate unless all of it is client-side (H27, H28) or the platform's.
  const counted = new Set(
    groups.filter((g) => !g.noise && !isPlatformCode(g.code)).map((g) => g.code),
  );
  for (let i = 0; i < timeline.requests.length; i++) {
    const requests = timeline.requests[i] ?? 0;
    let e = 0;
    for (const [code, series] of timeline.series) if (counted.has(code)) e += series[i] ?? 0;
    const rate = rateOf(e, requests);
    overTime.push(rate);
    if (rate !== null && e > 0 && (peak === null || rate > peak.rate))
      peak = { time: iso(timeline.start + i * timeline.width), requests, errors: e, rate };
  }
  const requests = timeline.requests.reduce((a, b) => a + b, 0);
  return { requests, errors, rate: rateOf(errors, requests), byRoute, overTime, peak };
}
