/**
 * `h13 drain`'s options: one table drives the CLI (parsing, --help), the library's
 * `startDrain(options)` (the same names in camelCase, durations as `…Ms` numbers, validated
 * here once) and docs/drain.md.
 */

import { H13Error } from '../core/errors.js';
import type { OptionSpec, OptionTable } from '../core/option-table.js';

export const DRAIN_OPTIONS = {
  port: {
    type: 'integer',
    description: 'port to listen on (0: any free port) [default: $PORT, else 7013]',
    min: 0,
    max: 65535,
  },
  host: {
    type: 'string',
    description:
      'address to bind [default: 127.0.0.1; 0.0.0.0 when $DYNO is set, as on Heroku, where the router must reach it]',
  },
  db: {
    type: 'string',
    description: 'SQLite file that keeps lines, diagnoses and counts',
    valueName: 'path',
    default: 'h13-drain.db',
  },
  'database-url': {
    type: 'string',
    description:
      'PostgreSQL to keep everything in instead of the SQLite file, shared by any number of drain processes (TLS unless local or sslmode=disable) [default: $DATABASE_URL]',
    valueName: 'url',
  },
  user: {
    type: 'string',
    description:
      'user name of the credential (the password comes from $H13_DRAIN_PASSWORD, else one is generated at first start, printed once and kept hashed in the db)',
    default: 'h13',
  },
  retention: {
    type: 'duration',
    description: 'diagnoses, counts, platform errors and bad-input samples are kept this long',
    default: 7 * 24 * 3_600_000,
  },
  'lines-retention': {
    type: 'duration',
    description: 'raw lines are kept this long',
    default: 24 * 3_600_000,
  },
  window: {
    type: 'duration',
    description: 'how long after a router error its evidence may still arrive (as h13 analyze)',
    default: 5000,
  },
  'max-body': {
    type: 'integer',
    description: 'largest request body in bytes (413 above; logplex aims at 100 KiB batches)',
    valueName: 'bytes',
    min: 1024,
    max: 256 * 1024 * 1024,
    default: 1024 * 1024,
  },
  'max-line': {
    type: 'integer',
    description: 'longest line kept in bytes; longer ones are cut and counted',
    valueName: 'bytes',
    min: 256,
    max: 1024 * 1024,
    default: 64 * 1024,
  },
  'app-rate': {
    type: 'integer',
    description:
      'lines per second one app may send, with bursts of twice that (429 above; 0: no limit)',
    min: 0,
    default: 20_000,
  },
  'app-concurrency': {
    type: 'integer',
    description: 'requests of one app handled at once (429 above)',
    min: 1,
    max: 10_000,
    default: 8,
  },
  'max-connections': {
    type: 'integer',
    description:
      'connections open at once; past it the connection waiting longest for a request head (slow or keep-alive idle) is closed to make room, or the new one when every connection has a request in progress (with --max-body, this bounds the memory held by bodies being read)',
    min: 1,
    max: 100_000,
    default: 256,
  },
  'max-apps': {
    type: 'integer',
    description: 'apps this drain accepts; a new app past it gets 403',
    min: 1,
    default: 200,
  },
  'headers-timeout': {
    type: 'duration',
    description: 'time a client has to send its request head',
    default: 10_000,
  },
  'request-timeout': {
    type: 'duration',
    description: 'time a client has to send a whole request (a stalled sender is cut off)',
    default: 30_000,
  },
  'analyzer-idle': {
    type: 'duration',
    description: 'an app silent this long has its analysis finished and its memory freed',
    default: 10 * 60_000,
  },
  'session-ttl': {
    type: 'duration',
    description: 'how long a web login lasts (the session cookie expires then)',
    default: 12 * 3_600_000,
  },
  'max-subscribers': {
    type: 'integer',
    description:
      'web pages following live events at once (503 above); each is disconnected if it reads too slowly',
    min: 1,
    max: 10_000,
    default: 32,
  },
  webhook: {
    type: 'strings',
    description:
      'alert this webhook: slack=URL (Slack-compatible {"text"}) or json=URL (the diagnosis as h13 analyze --json); repeatable; $H13_DRAIN_WEBHOOKS adds more, space-separated, so a secret URL stays out of ps',
    valueName: 'form=url',
  },
  'alert-error-rate': {
    type: 'integer',
    description:
      'alert when router errors reach this percent of router lines over --alert-window (0: never)',
    min: 0,
    max: 100,
    default: 10,
  },
  'alert-window': {
    type: 'duration',
    description: 'the window of the error rate (whole minutes of log time)',
    default: 5 * 60_000,
  },
  'alert-min-requests': {
    type: 'integer',
    description: 'router lines the window needs before its error rate can alert',
    min: 1,
    default: 20,
  },
  'alert-interval': {
    type: 'duration',
    description:
      'at most one alert per app and webhook this often; the ones held back are counted in the next',
    default: 60_000,
  },
  'alert-retries': {
    type: 'integer',
    description:
      'retries of a failed alert (network error, timeout, 429, 5xx), with exponential backoff from 1 s',
    min: 0,
    max: 10,
    default: 4,
  },
} as const satisfies OptionTable;

/** The library's name for each option of the table. */
export const DRAIN_API_NAMES = {
  port: 'port',
  host: 'host',
  db: 'dbPath',
  'database-url': 'databaseUrl',
  user: 'user',
  retention: 'retentionMs',
  'lines-retention': 'linesRetentionMs',
  window: 'windowMs',
  'max-body': 'maxBodyBytes',
  'max-line': 'maxLineBytes',
  'app-rate': 'appRate',
  'app-concurrency': 'appConcurrency',
  'max-connections': 'maxConnections',
  'max-apps': 'maxApps',
  'headers-timeout': 'headersTimeoutMs',
  'request-timeout': 'requestTimeoutMs',
  'analyzer-idle': 'analyzerIdleMs',
  'session-ttl': 'sessionTtlMs',
  'max-subscribers': 'maxSubscribers',
  webhook: 'webhooks',
  'alert-error-rate': 'alertErrorRate',
  'alert-window': 'alertWindowMs',
  'alert-min-requests': 'alertMinRequests',
  'alert-interval': 'alertIntervalMs',
  'alert-retries': 'alertRetries',
} as const satisfies Record<keyof typeof DRAIN_OPTIONS, string>;

export interface DrainSettings {
  port: number;
  host: string;
  dbPath: string;
  /** Set: the PostgreSQL store (pg-store.ts); unset: SQLite at dbPath. */
  databaseUrl: string | undefined;
  user: string;
  retentionMs: number;
  linesRetentionMs: number;
  windowMs: number;
  maxBodyBytes: number;
  maxLineBytes: number;
  appRate: number;
  appConcurrency: number;
  maxConnections: number;
  maxApps: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  analyzerIdleMs: number;
  sessionTtlMs: number;
  maxSubscribers: number;
  webhooks: string[];
  alertErrorRate: number;
  alertWindowMs: number;
  alertMinRequests: number;
  alertIntervalMs: number;
  alertRetries: number;
}

/** Library-only options: not on the command line (a password on argv is visible to `ps`). */
export interface DrainExtras {
  /** The credential's password; else $H13_DRAIN_PASSWORD is not read: the CLI passes it. */
  readonly password?: string;
  /** Where the service's own log lines go (logfmt, one per call). Default: stdout. */
  readonly log?: (line: string) => void;
  /** How often pending diagnoses are decided on the wall clock (as `h13 analyze --follow`). */
  readonly flushEveryMs?: number;
  /** With PostgreSQL: how often apps with unread lines are looked for besides NOTIFY. */
  readonly analysisPollMs?: number;
  /** How often old data is deleted. */
  readonly pruneEveryMs?: number;
  /** How often a live event stream gets a keep-alive comment (Heroku's router idles out at 55 s). */
  readonly heartbeatMs?: number;
  /** First wait before an alert is retried (doubled each time). */
  readonly alertRetryBaseMs?: number;
  /** How long one alert post may take. */
  readonly alertTimeoutMs?: number;
}

export type DrainOptions = Partial<DrainSettings> & DrainExtras;

const EXTRA_NAMES = new Set([
  'password',
  'log',
  'flushEveryMs',
  'analysisPollMs',
  'pruneEveryMs',
  'heartbeatMs',
  'alertRetryBaseMs',
  'alertTimeoutMs',
]);

function checkValue(field: string, spec: OptionSpec, value: unknown): void {
  const bad = (what: string) =>
    new H13Error('H13_ERR_INVALID_OPTION', `${field}: ${what}`, { field });
  switch (spec.type) {
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value))
        throw bad(`${String(value)} is not a whole number`);
      if (
        (spec.min !== undefined && value < spec.min) ||
        (spec.max !== undefined && value > spec.max)
      )
        throw bad(`${value} is out of range (${spec.min ?? '-∞'} to ${spec.max ?? '∞'})`);
      return;
    case 'duration':
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
        throw bad(`${String(value)} is not a duration in milliseconds`);
      return;
    case 'string':
      if (typeof value !== 'string' || value === '') throw bad('must be a non-empty string');
      return;
    case 'strings':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === ''))
        throw bad('must be a list of non-empty strings');
      return;
    default:
      return;
  }
}

/** Validates library options against the table (H13_ERR_INVALID_OPTION / _UNKNOWN_OPTION). */
export function resolveDrainOptions(
  options: DrainOptions,
  env: NodeJS.ProcessEnv = process.env,
): DrainSettings & DrainExtras {
  const apiToCli = new Map<string, keyof typeof DRAIN_OPTIONS>();
  for (const [cli, api] of Object.entries(DRAIN_API_NAMES))
    apiToCli.set(api, cli as keyof typeof DRAIN_OPTIONS);
  for (const key of Object.keys(options)) {
    if (!apiToCli.has(key) && !EXTRA_NAMES.has(key))
      throw new H13Error(
        'H13_ERR_UNKNOWN_OPTION',
        `startDrain: unknown option ${JSON.stringify(key)}`,
        {
          field: key,
        },
      );
  }
  const out: Record<string, unknown> = {};
  for (const [api, cli] of apiToCli) {
    const spec: OptionSpec = DRAIN_OPTIONS[cli];
    const given = (options as Record<string, unknown>)[api];
    if (given === undefined) {
      out[api] = 'default' in spec ? spec.default : undefined;
      continue;
    }
    checkValue(api, spec, given);
    out[api] = given;
  }
  out.port ??= portFrom(env);
  // Webhook URLs are secrets (a Slack one lets anyone post to the channel): the environment
  // keeps them off the command line.
  out.webhooks = [
    ...((out.webhooks as string[] | undefined) ?? []),
    ...(env.H13_DRAIN_WEBHOOKS ?? '').split(/\s+/).filter((w) => w !== ''),
  ];
  // Heroku Postgres sets DATABASE_URL; the environment also keeps its password out of ps.
  out.databaseUrl ??=
    env.DATABASE_URL === undefined || env.DATABASE_URL === '' ? undefined : env.DATABASE_URL;
  out.host ??= env.DYNO === undefined || env.DYNO === '' ? '127.0.0.1' : '0.0.0.0';
  if (
    options.password !== undefined &&
    (typeof options.password !== 'string' || options.password === '')
  )
    throw new H13Error('H13_ERR_INVALID_OPTION', 'password: must be a non-empty string', {
      field: 'password',
    });
  for (const name of [
    'flushEveryMs',
    'analysisPollMs',
    'pruneEveryMs',
    'heartbeatMs',
    'alertRetryBaseMs',
    'alertTimeoutMs',
  ] as const) {
    const v = options[name];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0))
      throw new H13Error(
        'H13_ERR_INVALID_OPTION',
        `${name}: must be a positive number of milliseconds`,
        {
          field: name,
        },
      );
  }
  return { ...(out as unknown as DrainSettings), ...pickExtras(options) };
}

function pickExtras(o: DrainOptions): DrainExtras {
  return {
    ...(o.password === undefined ? {} : { password: o.password }),
    ...(o.log === undefined ? {} : { log: o.log }),
    ...(o.flushEveryMs === undefined ? {} : { flushEveryMs: o.flushEveryMs }),
    ...(o.analysisPollMs === undefined ? {} : { analysisPollMs: o.analysisPollMs }),
    ...(o.pruneEveryMs === undefined ? {} : { pruneEveryMs: o.pruneEveryMs }),
    ...(o.heartbeatMs === undefined ? {} : { heartbeatMs: o.heartbeatMs }),
    ...(o.alertRetryBaseMs === undefined ? {} : { alertRetryBaseMs: o.alertRetryBaseMs }),
    ...(o.alertTimeoutMs === undefined ? {} : { alertTimeoutMs: o.alertTimeoutMs }),
  };
}

const DEFAULT_PORT = 7013;

function portFrom(env: NodeJS.ProcessEnv): number {
  const raw = env.PORT;
  if (raw === undefined || raw === '') return DEFAULT_PORT;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65535)
    throw new H13Error(
      'H13_ERR_INVALID_OPTION',
      `PORT=${JSON.stringify(raw)} is not a port number`,
      {
        field: 'PORT',
      },
    );
  return n;
}
