/**
 * The router's timers and switches, with Heroku's values as defaults
 * (shared/spec/heroku-router.md §2). One table feeds `h13 router`, `h13 run` and the
 * programmatic API, so every timer can be shortened to milliseconds in tests.
 */

import { formatDuration } from '../core/duration.js';
import type { LogFormat } from '../core/log-sink.js';
import type { OptionTable, ParsedOptions } from '../core/option-table.js';
import type { RouterFlavor } from '../core/router-line.js';

export interface RouterTimers {
  /** TCP connect to a dyno: H19 past it (5 s). */
  readonly connect: number;
  /** First response byte after the whole request was written: H12 past it (30 s). */
  readonly firstByte: number;
  /** Rolling idle window once a response started or a client is sending: H15 / H28 (55 s). */
  readonly idle: number;
  /** Time for a client to send its request head; also idle keep-alive client connections (60 s). */
  readonly clientHead: number;
  /** How long a request waits for a starting dyno: H20 past it (75 s). */
  readonly bootQueue: number;
  /** Router 2.0 closes pooled dyno connections idle this long (90 s). */
  readonly poolIdle: number;
  /** A dyno that refused or timed out a connect is skipped this long (5 s). */
  readonly quarantine: number;
  /**
   * After a dyno is told to stop, the router may still route to it this long: Heroku routes
   * "a request or two" after SIGTERM. 0 turns the race off.
   */
  readonly lateRouting: number;
}

export const HEROKU_TIMERS: RouterTimers = {
  connect: 5_000,
  firstByte: 30_000,
  idle: 55_000,
  clientHead: 60_000,
  bootQueue: 75_000,
  poolIdle: 90_000,
  quarantine: 5_000,
  lateRouting: 200,
};

/**
 * Bounds on what the router holds and serves at once. Heroku documents the per-line limits
 * (src/http/request-head.ts) but no total; these are h13's, chosen so a hostile client cannot
 * make the router hold more than they allow, whatever the per-line limits would permit.
 */
export interface RouterLimits {
  /** Bytes of one request head held while it arrives: past it, 431 and no line. */
  readonly maxHeadBytes: number;
  /** Request-head bytes held by all client connections together: past it, 503 and no line. */
  readonly maxBufferedBytes: number;
  /** Client connections open at once: a request on a connection past it is H22. */
  readonly maxConnections: number;
  /** Requests in flight per routable dyno (Heroku's backlog): past it, H11. */
  readonly backlogPerDyno: number;
}

export const DEFAULT_LIMITS: RouterLimits = {
  maxHeadBytes: 256 * 1024,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxConnections: 10_000,
  backlogPerDyno: 200,
};

/** CLI options shared by `h13 router` and `h13 run`. */
export const ROUTER_OPTIONS = {
  router: {
    type: 'string',
    description:
      'which Heroku router to emulate: Router 2.0 (keep-alive pool to dynos) or the legacy one',
    choices: ['2', 'legacy'],
    default: '2',
  },
  'log-format': {
    type: 'string',
    description: 'heroku: `heroku logs` lines; json: one object per line with the same fields',
    choices: ['heroku', 'json'],
    default: 'heroku',
  },
  'app-host': {
    type: 'string',
    description: 'host= value when the request has no Host header',
    default: 'localhost',
  },
  'connect-timeout': {
    type: 'duration',
    description: 'dyno connect timeout (H19)',
    default: HEROKU_TIMERS.connect,
  },
  'request-timeout': {
    type: 'duration',
    description: 'time to the first response byte (H12)',
    default: HEROKU_TIMERS.firstByte,
  },
  'idle-timeout': {
    type: 'duration',
    description: 'rolling idle window (H15, H28)',
    default: HEROKU_TIMERS.idle,
  },
  'head-timeout': {
    type: 'duration',
    description: 'time for a client to send its request head (408)',
    default: HEROKU_TIMERS.clientHead,
  },
  'boot-queue-timeout': {
    type: 'duration',
    description: 'time a request waits for a starting dyno (H20)',
    default: HEROKU_TIMERS.bootQueue,
  },
  'pool-idle-timeout': {
    type: 'duration',
    description: 'Router 2.0: pooled dyno connections idle this long are closed',
    default: HEROKU_TIMERS.poolIdle,
  },
  'late-routing': {
    type: 'duration',
    description: 'keep routing to a dyno this long after SIGTERM (the shutdown race; 0: off)',
    default: HEROKU_TIMERS.lateRouting,
  },
  'max-connections': {
    type: 'integer',
    description: 'client connections open at once; a request past it is H22',
    default: DEFAULT_LIMITS.maxConnections,
    min: 1,
  },
  backlog: {
    type: 'integer',
    description: 'requests in flight per routable dyno; past it H11 (Backlog too deep)',
    default: DEFAULT_LIMITS.backlogPerDyno,
    min: 1,
  },
  'max-head-bytes': {
    type: 'integer',
    description: 'bytes of one request head held while it arrives; past it 431, no line',
    default: DEFAULT_LIMITS.maxHeadBytes,
    min: 1,
  },
  'max-buffered-bytes': {
    type: 'integer',
    description:
      'request-head and pipelined bytes held by all connections together; past it a head is 503 (no line), a pipeline is paused',
    default: DEFAULT_LIMITS.maxBufferedBytes,
    min: 1,
  },
} as const satisfies OptionTable;

export function limitsFrom(options: ParsedOptions<typeof ROUTER_OPTIONS>): RouterLimits {
  return {
    maxConnections: options['max-connections'],
    backlogPerDyno: options.backlog,
    maxHeadBytes: options['max-head-bytes'],
    maxBufferedBytes: options['max-buffered-bytes'],
  };
}

/**
 * docs/router.md's option table, rendered from ROUTER_OPTIONS (scripts/render-docs.ts writes
 * it between its markers; test/core/docs-sync.test.ts fails when they differ).
 */
export function renderRouterOptionsTable(): string {
  const rows = Object.entries(ROUTER_OPTIONS).map(([name, spec]) => {
    const value =
      spec.type === 'duration'
        ? ' DURATION'
        : spec.type === 'integer'
          ? ' N'
          : 'choices' in spec
            ? ` ${spec.choices.join('\\|')}`
            : ' VALUE';
    const fallback = spec.type === 'duration' ? formatDuration(spec.default) : String(spec.default);
    return `| \`--${name}${value}\` | ${fallback} | ${spec.description.replace(/\|/g, '\\|')} |`;
  });
  return ['| option | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

export function timersFrom(options: ParsedOptions<typeof ROUTER_OPTIONS>): RouterTimers {
  return {
    ...HEROKU_TIMERS,
    connect: options['connect-timeout'],
    firstByte: options['request-timeout'],
    idle: options['idle-timeout'],
    clientHead: options['head-timeout'],
    bootQueue: options['boot-queue-timeout'],
    poolIdle: options['pool-idle-timeout'],
    lateRouting: options['late-routing'],
  };
}

export function flavorFrom(options: ParsedOptions<typeof ROUTER_OPTIONS>): RouterFlavor {
  return options.router === 'legacy' ? 'legacy' : '2';
}

export function logFormatFrom(options: ParsedOptions<typeof ROUTER_OPTIONS>): LogFormat {
  return options['log-format'] === 'json' ? 'json' : 'heroku';
}
