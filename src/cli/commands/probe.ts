import { parseDuration } from '../../core/duration.js';
import { H13Error } from '../../core/errors.js';
import { safeJson } from '../../core/safe-json.js';
import { BATTERY } from '../../probe/battery.js';
import type { CaseDef } from '../../probe/battery-types.js';
import { PROBE_GROUPS, type ProbeGroup } from '../../probe/findings.js';
import { PROXIES, type ProxySpec } from '../../probe/keepalive.js';
import { runProbe } from '../../probe/probe.js';
import { progressWriter } from '../../probe/progress.js';
import { renderReport } from '../../probe/report-text.js';
import { defineCommand } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { parseTarget } from '../url-target.js';

export const probeCommand = defineCommand({
  name: 'probe',
  summary: 'Test a server for every way it can close a connection without answering (H13).',
  usage: 'probe [options] URL | probe [options] --spawn -- COMMAND...',
  details:
    'Groups: bad-requests (a battery of malformed HTTP/1.1 requests), keepalive (idle timeout\n' +
    'vs the proxy, and requests lost as idle connections close), timeouts (idle, slow head,\n' +
    'slow body), shutdown and crash (with --spawn: the probe starts the app with PORT set,\n' +
    'sends traffic, then SIGTERM / the --crash-path request).\n' +
    'Traffic goes only to URL, or to the spawned app on 127.0.0.1. See docs/probe.md.',
  options: {
    only: {
      type: 'strings',
      description: `run only this group (repeatable): ${PROBE_GROUPS.join(', ')}`,
      valueName: 'group',
    },
    case: {
      type: 'strings',
      description: 'run only this bad-request case (repeatable; ids in docs/probe.md)',
      valueName: 'id',
    },
    json: { type: 'boolean', description: 'print the report as JSON (schema h13-probe/1)' },
    full: {
      type: 'boolean',
      description: 'print every case in the table (default: a summary per group and the findings)',
    },
    quiet: { type: 'boolean', description: 'no progress on stderr while the probe runs' },
    timeout: { type: 'duration', description: 'deadline of one request or case', default: 5000 },
    proxy: {
      type: 'string',
      description:
        'idle timeout to compare with: heroku (90s), alb (60s), nginx (60s) or a duration',
      default: 'heroku',
    },
    concurrency: {
      type: 'integer',
      description: 'bad-request cases in flight at once',
      default: 8,
      min: 1,
      max: 64,
    },
    'keepalive-wait': {
      type: 'duration',
      description: "how long to wait for the server's idle close",
      default: 120_000,
    },
    'race-count': {
      type: 'integer',
      description: 'requests sent as idle connections close (0: skip)',
      default: 20,
      min: 0,
      max: 200,
    },
    'slow-wait': {
      type: 'duration',
      description: 'how long each slow client keeps going',
      default: 100_000,
    },
    drip: { type: 'duration', description: 'interval between slow-client bytes', default: 1000 },
    spawn: { type: 'boolean', description: 'start the app (COMMAND after --) with PORT set' },
    path: { type: 'string', description: 'request path for --spawn traffic', default: '/' },
    'crash-path': {
      type: 'string',
      description: 'with --spawn: a route that crashes the app (enables the crash group)',
      valueName: 'path',
    },
    workers: {
      type: 'integer',
      description: 'concurrent connections of shutdown/crash traffic',
      default: 4,
      min: 1,
      max: 64,
    },
    'sigterm-gap': {
      type: 'duration',
      description: 'time between the first and second SIGTERM',
      default: 1000,
    },
    'shutdown-wait': {
      type: 'duration',
      description: 'SIGKILL the app this long after SIGTERM (Heroku: 30s)',
      default: 30_000,
    },
    'late-window': {
      type: 'duration',
      description:
        "new requests keep coming this long after SIGTERM or the crash, as from Heroku's router",
      default: 100,
    },
    'boot-wait': {
      type: 'duration',
      description: 'how long the spawned app may take to accept connections',
      default: 60_000,
    },
  },
  args: { min: 0, max: 1 },
  run: async ({ options, args, rest }) => {
    const spawn = options.spawn;
    if (spawn && (rest.length === 0 || args.length > 0)) {
      throw new H13Error(
        'H13_ERR_MISSING_ARGUMENT',
        'probe --spawn takes the command after -- and no URL (use --path for the route)',
      );
    }
    if (!spawn && args.length === 0) {
      throw new H13Error('H13_ERR_MISSING_ARGUMENT', 'usage: h13 probe [options] URL');
    }
    const groups = selectGroups(options.only, spawn, options['crash-path']);
    const subject = spawn
      ? {
          kind: 'spawn' as const,
          command: rest,
          path: checkPath(options.path, '--path'),
          crashPath:
            options['crash-path'] === undefined
              ? null
              : checkPath(options['crash-path'], '--crash-path'),
        }
      : { kind: 'url' as const, target: parseTarget(args[0] as string) };
    const progress = progressWriter(process.stderr);
    const outcome = await runProbe(subject, {
      ...(options.quiet ? {} : { onProgress: (text: string) => progress.update(text) }),
      groups,
      cases: selectBattery(options.case),
      timeoutMs: options.timeout,
      concurrency: options.concurrency,
      proxy: proxyFrom(options.proxy),
      keepaliveWaitMs: options['keepalive-wait'],
      raceCount: options['race-count'],
      slowWaitMs: options['slow-wait'],
      dripMs: options.drip,
      workers: options.workers,
      sigtermGapMs: options['sigterm-gap'],
      shutdownWaitMs: options['shutdown-wait'],
      lateWindowMs: options['late-window'],
      bootWaitMs: options['boot-wait'],
    });
    progress.done();
    if (!outcome.ok) {
      console.error(`h13 probe: ${outcome.error}`);
      return EXIT.FAILURE;
    }
    const report = outcome.report;
    if (options.json) console.log(safeJson(report, 2));
    else
      console.log(
        renderReport(report, process.stdout.isTTY === true && !process.env.NO_COLOR, {
          full: options.full,
        }),
      );
    return report.findings.length > 0 ? EXIT.FOUND : EXIT.OK;
  },
});

function selectGroups(
  only: readonly string[],
  spawn: boolean,
  crashPath: string | undefined,
): ProbeGroup[] {
  for (const g of only) {
    if (!(PROBE_GROUPS as readonly string[]).includes(g)) {
      throw new H13Error(
        'H13_ERR_INVALID_OPTION',
        `--only: ${JSON.stringify(g)} is not one of ${PROBE_GROUPS.join(', ')}`,
        { field: '--only' },
      );
    }
  }
  const chosen =
    only.length > 0
      ? (only as ProbeGroup[])
      : (['bad-requests', 'keepalive', 'timeouts', 'shutdown', 'crash'] as ProbeGroup[]).filter(
          (g) =>
            (g !== 'shutdown' || spawn) && (g !== 'crash' || (spawn && crashPath !== undefined)),
        );
  if (!spawn && chosen.some((g) => g === 'shutdown' || g === 'crash')) {
    throw new H13Error('H13_ERR_INVALID_OPTION', '--only shutdown/crash needs --spawn', {
      field: '--only',
    });
  }
  if (chosen.includes('crash') && crashPath === undefined) {
    throw new H13Error('H13_ERR_INVALID_OPTION', '--only crash needs --crash-path', {
      field: '--only',
    });
  }
  return PROBE_GROUPS.filter((g) => chosen.includes(g));
}

function selectBattery(ids: readonly string[]): readonly CaseDef[] {
  if (ids.length === 0) return BATTERY;
  for (const id of ids) {
    if (!BATTERY.some((c) => c.id === id)) {
      throw new H13Error('H13_ERR_INVALID_OPTION', `--case: no case ${JSON.stringify(id)}`, {
        field: '--case',
      });
    }
  }
  return BATTERY.filter((c) => ids.includes(c.id));
}

function proxyFrom(text: string): ProxySpec {
  if (text in PROXIES) {
    const p = PROXIES[text as keyof typeof PROXIES];
    return { name: text, label: p.label, idleMs: p.idleMs };
  }
  const idleMs = parseDuration(text, '--proxy');
  if (idleMs <= 0) {
    throw new H13Error('H13_ERR_INVALID_OPTION', '--proxy: the idle timeout must be above 0', {
      field: '--proxy',
    });
  }
  return { name: 'custom', label: `the proxy (--proxy ${text})`, idleMs };
}

function checkPath(path: string, field: string): string {
  if (!/^\/[\x21-\x7e]*$/.test(path)) {
    throw new H13Error(
      'H13_ERR_INVALID_OPTION',
      `${field}: ${JSON.stringify(path)} is not a path starting with /`,
      {
        field,
      },
    );
  }
  return path;
}
