/**
 * The dyno manager's options, one typed table (with the router's, ROUTER_OPTIONS) that drives
 * `h13 run`'s parsing and --help, the checks on `startRun`'s options, and docs/run.md's option
 * table (rendered here, checked by the docs test).
 */

import { formatDuration } from '../core/duration.js';
import { H13Error } from '../core/errors.js';
import { markdownCell } from '../core/generated-docs.js';
import type { OptionSpec, OptionTable } from '../core/option-table.js';
import { ROUTER_OPTIONS } from '../router/options.js';

export const DYNO_OPTIONS = {
  dynos: { type: 'integer', description: 'how many web dynos', default: 1, min: 0, max: 100 },
  port: {
    type: 'integer',
    description: "the router's port (default: $PORT, else 3000; 0: any free port)",
    min: 0,
    max: 65535,
  },
  host: { type: 'string', description: 'address the router binds', default: '127.0.0.1' },
  grace: {
    type: 'duration',
    description: 'SIGTERM to SIGKILL on restart and stop (R12)',
    default: 30_000,
  },
  'boot-timeout': {
    type: 'duration',
    description: 'time for a dyno to bind $PORT (R10)',
    default: 60_000,
  },
  'restart-delay': {
    type: 'duration',
    description: 'delay before the second restart of a crashed dyno; doubles after',
    default: 1000,
  },
  resignal: {
    type: 'duration',
    description: 'send SIGTERM again this long after the first, as Heroku may (0: never)',
    default: 0,
  },
  isolation: {
    type: 'string',
    description:
      "what holds a dyno's processes: a PID namespace (nothing survives the dyno; Linux with unshare) or a process group (fallback)",
    choices: ['auto', 'pid-namespace', 'process-group'],
    default: 'auto',
  },
} as const satisfies OptionTable;

/** `--drain`: the `heroku logs` stream also goes to a log drain, as logplex sends it. */
export const DRAIN_OPTIONS = {
  drain: {
    type: 'string',
    description:
      'also send every line to this log drain as Heroku does (logplex HTTPS: POST application/logplex-1 batches), e.g. http://h13:PASS@127.0.0.1:7013/drain/my-app; only to this URL',
    valueName: 'URL',
  },
  'drain-buffer': {
    type: 'integer',
    description:
      'lines held while the drain is slow or down (logplex holds 1024); past it the oldest are dropped, counted, and reported to the drain as L10',
    default: 1024,
    min: 1,
    max: 1_000_000,
  },
  'drain-flush': {
    type: 'duration',
    description: 'at stop, time left to deliver what the drain has not yet received',
    default: 5000,
  },
} as const satisfies OptionTable;

export const RUN_OPTIONS = {
  ...DYNO_OPTIONS,
  ...ROUTER_OPTIONS,
  ...DRAIN_OPTIONS,
} as const satisfies OptionTable;

/** `startRun` option → its row in DYNO_OPTIONS (library names are camelCase, in ms). */
const LIBRARY_NAMES = {
  dynos: 'dynos',
  port: 'port',
  grace: 'grace',
  bootTimeout: 'boot-timeout',
  restartDelay: 'restart-delay',
  resignal: 'resignal',
  drainFlushMs: 'drain-flush',
} as const;

/** Where the other rows go in `startRun` (display only; the router checks its own). */
const LIBRARY_PLACES: Readonly<Record<string, string>> = {
  host: 'host',
  isolation: 'isolation',
  router: 'flavor',
  'log-format': 'log (a LogSink)',
  'app-host': 'appHost',
  'connect-timeout': 'timers.connect',
  'request-timeout': 'timers.firstByte',
  'idle-timeout': 'timers.idle',
  'head-timeout': 'timers.clientHead',
  'boot-queue-timeout': 'timers.bootQueue',
  'pool-idle-timeout': 'timers.poolIdle',
  'late-routing': 'timers.lateRouting',
  'max-connections': 'limits.maxConnections',
  backlog: 'limits.backlogPerDyno',
  'max-head-bytes': 'limits.maxHeadBytes',
  'max-buffered-bytes': 'limits.maxBufferedBytes',
  drain: 'drain.url',
  'drain-buffer': 'drain.bufferLines',
};

function check(field: string, spec: OptionSpec, value: unknown): void {
  const bad = (why: string) => {
    throw new H13Error('H13_ERR_INVALID_OPTION', `${field}: ${String(value)} ${why}`, { field });
  };
  if (spec.type === 'duration') {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      bad('is not a duration in milliseconds (a finite number, 0 or more)');
  } else if (spec.type === 'integer') {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) bad('is not a whole number');
    const n = value as number;
    if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max))
      bad(`is out of range (${spec.min ?? '-∞'} to ${spec.max ?? '∞'})`);
  }
}

/** `startRun`'s numeric options, checked against the same table as the CLI's. */
export function checkRunOptions(options: Readonly<Record<string, unknown>>): void {
  for (const [name, row] of Object.entries(LIBRARY_NAMES)) {
    const value = options[name];
    if (value !== undefined) check(name, RUN_OPTIONS[row], value);
  }
  const drain = options.drain as { bufferLines?: unknown } | undefined;
  if (drain?.bufferLines !== undefined)
    check('drain.bufferLines', DRAIN_OPTIONS['drain-buffer'], drain.bufferLines);
  const isolation = options.isolation;
  if (isolation !== undefined && isolation !== 'pid-namespace' && isolation !== 'process-group') {
    throw new H13Error(
      'H13_ERR_INVALID_OPTION',
      `isolation: ${JSON.stringify(isolation)} is not one of pid-namespace, process-group`,
      { field: 'isolation' },
    );
  }
}

/** docs/run.md's option table: every `h13 run` option, its default and what it does. */
export function renderRunOptionsTable(): string {
  const library: Record<string, string> = {
    ...LIBRARY_PLACES,
    ...Object.fromEntries(Object.entries(LIBRARY_NAMES).map(([k, v]) => [v, k])),
  };
  const rows = Object.entries(RUN_OPTIONS).map(([name, spec]: [string, OptionSpec]) => {
    let shown = '';
    if ('default' in spec && spec.default !== undefined)
      shown = spec.type === 'duration' ? formatDuration(spec.default) : String(spec.default);
    const choices =
      spec.type === 'string' && spec.choices !== undefined ? ` (${spec.choices.join(', ')})` : '';
    const lib = library[name] === undefined ? '' : `\`${library[name]}\``;
    return `| \`--${name}\` | ${shown === '' ? '' : `\`${shown}\``} | ${lib} | ${markdownCell(spec.description)}${markdownCell(choices)} |`;
  });
  return ['| option | default | `startRun` | what it does |', '|---|---|---|---|', ...rows].join(
    '\n',
  );
}
