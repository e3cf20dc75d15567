/**
 * `h13 probe`: runs the selected checks against a target (or an app it starts) and gathers one
 * report. The connection-level groups (bad requests, keep-alive, timeouts) run at the same time
 * on separate connections; shutdown and crash need the app to themselves and run last, each on
 * a process of its own.
 */

import type { Ending } from '../http/raw-exchange.js';
import { type CaseResult, runBadRequests } from './bad-requests.js';
import type { CaseDef } from './battery-types.js';
import type { Finding, ProbeGroup } from './findings.js';
import { type KeepAliveResult, type ProxySpec, runKeepAlive } from './keepalive.js';
import { appTarget, type LifecycleResult, runCrash, runShutdown } from './lifecycle.js';
import { type SpawnedApp, startApp } from './spawn.js';
import { canConnect, type ProbeTarget } from './target.js';
import { runTimeouts, type TimeoutResult } from './timeouts.js';

export const REPORT_SCHEMA_ID = 'h13-probe/1';

export interface ProbeSettings {
  readonly groups: readonly ProbeGroup[];
  /** The bad-request cases to run (the whole battery by default). */
  readonly cases: readonly CaseDef[];
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly proxy: ProxySpec;
  readonly keepaliveWaitMs: number;
  readonly raceCount: number;
  readonly slowWaitMs: number;
  readonly dripMs: number;
  readonly workers: number;
  readonly sigtermGapMs: number;
  readonly shutdownWaitMs: number;
  /** New requests keep coming this long after SIGTERM or the crash request. */
  readonly lateWindowMs: number;
  readonly bootWaitMs: number;
  /** What the probe is doing now, for a progress line (the CLI writes it to stderr). */
  readonly onProgress?: (text: string) => void;
}

export type ProbeSubject =
  | { readonly kind: 'url'; readonly target: ProbeTarget }
  | {
      readonly kind: 'spawn';
      readonly command: readonly string[];
      readonly path: string;
      readonly crashPath: string | null;
    };

export interface BadRequestReport {
  readonly total: number;
  /** Cases the router would forward as sent (the ones that can be findings). */
  readonly forwarded: number;
  readonly endings: Record<Ending, number>;
  /** Answered with a status RFC 9112 allows. */
  readonly conforming: number;
  readonly cases: readonly CaseResult[];
}

export interface ProbeReport {
  readonly schema: typeof REPORT_SCHEMA_ID;
  readonly target: {
    readonly host: string;
    readonly port: number;
    readonly path: string;
    readonly command: readonly string[] | null;
  };
  readonly proxy: ProxySpec;
  readonly groups: readonly ProbeGroup[];
  readonly durationMs: number;
  readonly badRequests: BadRequestReport | null;
  readonly keepAlive: KeepAliveResult | null;
  readonly timeouts: readonly TimeoutResult[] | null;
  readonly shutdown: LifecycleResult | null;
  readonly crash: LifecycleResult | null;
  readonly findings: readonly Finding[];
}

export type ProbeOutcome =
  | { readonly ok: true; readonly report: ProbeReport }
  | { readonly ok: false; readonly error: string };

export async function runProbe(subject: ProbeSubject, s: ProbeSettings): Promise<ProbeOutcome> {
  const started = performance.now();
  const has = (g: ProbeGroup) => s.groups.includes(g);
  let app: SpawnedApp | null = null;
  let target: ProbeTarget;
  if (subject.kind === 'spawn') {
    const started = await startApp(subject.command, s.bootWaitMs);
    if (typeof started === 'string') return { ok: false, error: started };
    app = started;
    target = appTarget(app, subject.path);
  } else {
    target = subject.target;
    if (!(await canConnect(target, s.timeoutMs))) {
      return { ok: false, error: `cannot connect to ${target.host}:${target.port}` };
    }
  }
  const lifecycle = {
    path: target.path,
    workers: s.workers,
    timeoutMs: s.timeoutMs,
    sigtermGapMs: s.sigtermGapMs,
    shutdownWaitMs: s.shutdownWaitMs,
    lateWindowMs: s.lateWindowMs,
    warmup: s.workers * 2,
  };

  // The three groups run at once: the progress line says which are still running.
  const running = new Map<string, string>();
  const report = () => s.onProgress?.([...running.values()].join(' · '));
  const track = <T>(key: string, text: string, work: Promise<T>): Promise<T> => {
    running.set(key, text);
    report();
    return work.finally(() => {
      running.delete(key);
      report();
    });
  };
  const [cases, keepAlive, timeouts] = await Promise.all([
    has('bad-requests')
      ? track(
          'bad-requests',
          `bad requests 0/${s.cases.length}`,
          runBadRequests(target, {
            cases: s.cases,
            timeoutMs: s.timeoutMs,
            concurrency: s.concurrency,
            onCase: (done, total) => {
              running.set('bad-requests', `bad requests ${done}/${total}`);
              report();
            },
          }),
        )
      : null,
    has('keepalive')
      ? track(
          'keepalive',
          `keep-alive: waiting up to ${Math.round(s.keepaliveWaitMs / 1000)} s for the idle close`,
          runKeepAlive(target, {
            proxy: s.proxy,
            waitMs: s.keepaliveWaitMs,
            raceCount: s.raceCount,
            timeoutMs: s.timeoutMs,
          }),
        )
      : null,
    has('timeouts')
      ? track(
          'timeouts',
          `slow clients (up to ${Math.round(s.slowWaitMs / 1000)} s)`,
          runTimeouts(target, {
            waitMs: s.slowWaitMs,
            dripMs: s.dripMs,
            connectTimeoutMs: s.timeoutMs,
          }),
        )
      : null,
  ]);

  let shutdown: LifecycleResult | null = null;
  let crash: LifecycleResult | null = null;
  if (subject.kind === 'spawn' && app !== null) {
    if (has('shutdown')) {
      s.onProgress?.('shutdown: traffic, SIGTERM, and the drain');
      shutdown = await runShutdown(app, lifecycle);
    } else {
      app.signal('SIGKILL');
      await app.exited;
    }
    if (has('crash') && subject.crashPath !== null) {
      const second = await startApp(subject.command, s.bootWaitMs);
      if (typeof second === 'string')
        return { ok: false, error: `restarting for the crash check: ${second}` };
      s.onProgress?.('crash: traffic and the crash request');
      crash = await runCrash(second, subject.crashPath, lifecycle);
    }
  }

  const badRequests = cases === null ? null : summarise(cases);
  const findings: Finding[] = [
    ...(cases ?? []).flatMap((c) => (c.finding === null ? [] : [c.finding])),
    ...(keepAlive?.findings ?? []),
    ...(timeouts ?? []).flatMap((t) => (t.finding === null ? [] : [t.finding])),
    ...(shutdown?.findings ?? []),
    ...(crash?.findings ?? []),
  ];
  return {
    ok: true,
    report: {
      schema: REPORT_SCHEMA_ID,
      target: {
        host: target.host,
        port: target.port,
        path: target.path,
        command: subject.kind === 'spawn' ? subject.command : null,
      },
      proxy: s.proxy,
      groups: s.groups,
      durationMs: Math.round(performance.now() - started),
      badRequests,
      keepAlive,
      timeouts,
      shutdown,
      crash,
      findings,
    },
  };
}

function summarise(cases: readonly CaseResult[]): BadRequestReport {
  const endings: Record<Ending, number> = {
    answered: 0,
    truncated: 0,
    silent: 0,
    reset: 0,
    open: 0,
    refused: 0,
  };
  for (const c of cases) endings[c.ending]++;
  return {
    total: cases.length,
    forwarded: cases.filter((c) => c.router.kind === 'forward').length,
    endings,
    conforming: cases.filter((c) => c.conforms).length,
    cases,
  };
}
