/**
 * The guard's options: one table of defaults, validated once per guard() call with clear
 * H13Error messages. Durations are numbers of milliseconds named `…Ms`; strings with a unit
 * ('1.5s') are accepted only from text (H13_GUARD), through src/core/duration.ts.
 */

import { parseDuration } from '../core/duration.js';
import { H13Error } from '../core/errors.js';

/** Idle timeouts of the proxies in front of the app; keepAliveTimeout must outlive them. */
export const KEEP_ALIVE_PROFILES = {
  /** Router 2.0 keeps idle connections to dynos for 90 s; Heroku's own templates use 95 s. */
  heroku: 95_000,
  /** ALB default idle timeout 60 s. */
  alb: 65_000,
  /** nginx upstream keepalive_timeout default 60 s. */
  nginx: 65_000,
} as const;

export type KeepAliveProfile = keyof typeof KEEP_ALIVE_PROFILES;

/** Anything with pino-style level methods: `logger.error(fields, message)`. */
export interface GuardLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export type GuardLog = 'stderr' | 'stdout' | GuardLogger | ((line: string) => void);

export type StepMode = 'failure' | 'live' | 'off';

export type GuardSignal = 'SIGTERM' | 'SIGINT' | 'SIGHUP' | 'SIGUSR2';

export interface GuardOptions {
  /** Where lines go: stderr (default), stdout, a pino-compatible logger, or a line function. */
  log?: GuardLog;
  /** Keep a valid X-Request-Id, else make a UUID, and echo it on the response. */
  requestId?: boolean;
  /** AsyncLocalStorage per request: requestId()/currentRequest()/step() anywhere. Costs. */
  context?: boolean;
  /** Breadcrumbs: logged only when the request fails (default), as they happen, or not kept. */
  steps?: StepMode;
  /** Steps kept per request (the oldest are dropped). */
  maxSteps?: number;
  /** Top stack frames logged for a destroy or a crash. */
  stackFrames?: number;
  /** keepAliveTimeout profile or milliseconds; false leaves the server's timeouts alone. */
  keepAlive?: KeepAliveProfile | number | false;
  /** Observe clientError, keep Node's answers, answer when the app's listener does not. */
  clientErrors?: boolean;
  /**
   * After answering a bad request, keep reading and discarding what the client still sends
   * this long before closing (RFC 9112 §9.6), so the answer is not lost to an RST; 0 closes at
   * once.
   */
  clientErrorLingerMs?: number;
  /** Bytes discarded during that linger before the socket is destroyed anyway. */
  clientErrorLingerBytes?: number;
  /** Answer an owed request (500/503, Connection: close) instead of letting its socket close. */
  answer?: boolean;
  /** Signals that start a graceful shutdown; false installs none. */
  signals?: readonly GuardSignal[] | false;
  /** After the first signal, keep accepting and answering (Connection: close) this long. */
  lateWindowMs?: number;
  /** During shutdown an idle keep-alive socket is closed only after being quiet this long. */
  idleQuietMs?: number;
  /** From the first signal, how long in-flight requests may take before they are answered 503. */
  drainTimeoutMs?: number;
  /** Time given to onShutdown() hooks after the servers closed. */
  hookTimeoutMs?: number;
  /** Handle uncaughtException/unhandledRejection: answer, drain, exit non-zero. */
  crash?: boolean;
  /**
   * When the app has its own uncaughtException/unhandledRejection listener, let it decide
   * whether the process lives (the guard still logs and answers 500). false: drain and exit
   * anyway.
   */
  deferCrashToApp?: boolean;
  /** After a crash, how long other in-flight requests may take before they are answered 503. */
  crashTimeoutMs?: number;
  /** Exit the process when the shutdown or crash drain is over. */
  exit?: boolean;
}

export interface ResolvedOptions {
  readonly log: GuardLog;
  readonly requestId: boolean;
  readonly context: boolean;
  readonly steps: StepMode;
  readonly maxSteps: number;
  readonly stackFrames: number;
  readonly keepAlive: number | false;
  readonly keepAliveProfile: string;
  readonly clientErrors: boolean;
  readonly clientErrorLingerMs: number;
  readonly clientErrorLingerBytes: number;
  readonly answer: boolean;
  readonly signals: readonly GuardSignal[];
  readonly lateWindowMs: number;
  readonly idleQuietMs: number;
  readonly drainTimeoutMs: number;
  readonly hookTimeoutMs: number;
  readonly crash: boolean;
  readonly deferCrashToApp: boolean;
  readonly crashTimeoutMs: number;
  readonly exit: boolean;
}

export const DEFAULTS: ResolvedOptions = {
  log: 'stderr',
  requestId: true,
  context: false,
  steps: 'failure',
  maxSteps: 20,
  stackFrames: 4,
  keepAlive: KEEP_ALIVE_PROFILES.heroku,
  keepAliveProfile: 'heroku',
  clientErrors: true,
  clientErrorLingerMs: 2000,
  clientErrorLingerBytes: 4 * 1024 * 1024,
  answer: true,
  signals: ['SIGTERM', 'SIGINT'],
  lateWindowMs: 1500,
  idleQuietMs: 1000,
  drainTimeoutMs: 22_000,
  hookTimeoutMs: 3000,
  crash: true,
  deferCrashToApp: true,
  crashTimeoutMs: 5000,
  exit: true,
};

/** Heroku sends SIGKILL 30 s after SIGTERM; the drain and the hooks must fit with a margin. */
export const PLATFORM_WINDOW_MS = 30_000;
export const PLATFORM_MARGIN_MS = 2000;

const KNOWN = new Set<string>([
  'log',
  'requestId',
  'context',
  'steps',
  'maxSteps',
  'stackFrames',
  'keepAlive',
  'clientErrors',
  'clientErrorLingerMs',
  'clientErrorLingerBytes',
  'answer',
  'signals',
  'lateWindowMs',
  'idleQuietMs',
  'drainTimeoutMs',
  'hookTimeoutMs',
  'crash',
  'deferCrashToApp',
  'crashTimeoutMs',
  'exit',
]);
const SIGNALS = new Set<string>(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR2']);
const STEP_MODES = new Set<string>(['failure', 'live', 'off']);

function invalid(field: string, message: string): H13Error {
  return new H13Error('H13_ERR_INVALID_OPTION', `guard option ${field}: ${message}`, { field });
}

function bool(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw invalid(field, `expected true or false, got ${show(value)}`);
  return value;
}

function integer(value: unknown, field: string, fallback: number, min: number, max: number) {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw invalid(field, `expected an integer from ${min} to ${max}, got ${show(value)}`);
  return value;
}

function duration(value: unknown, field: string, fallback: number, max = 3_600_000): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') {
    const hint =
      typeof value === 'string' ? ` (a duration with a unit is read only from H13_GUARD)` : '';
    throw invalid(field, `expected a number of milliseconds, got ${show(value)}${hint}`);
  }
  if (!Number.isFinite(value) || value < 0 || value > max)
    throw invalid(field, `expected 0 to ${max} ms, got ${show(value)}`);
  return Math.round(value);
}

/** The duration options: numbers in code, strings with a unit allowed in H13_GUARD. */
export const DURATION_OPTIONS = [
  'lateWindowMs',
  'idleQuietMs',
  'drainTimeoutMs',
  'hookTimeoutMs',
  'crashTimeoutMs',
  'clientErrorLingerMs',
] as const;

function show(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function logOption(value: unknown): GuardLog {
  if (value === undefined) return DEFAULTS.log;
  if (value === 'stderr' || value === 'stdout') return value;
  if (typeof value === 'function') return value as (line: string) => void;
  if (typeof value === 'object' && value !== null) {
    const logger = value as Record<string, unknown>;
    const missing = ['info', 'warn', 'error'].filter((m) => typeof logger[m] !== 'function');
    if (missing.length === 0) return value as GuardLogger;
    throw invalid('log', `the logger has no ${missing.join('/')} method (pino-compatible needed)`);
  }
  throw invalid('log', `expected 'stderr', 'stdout', a logger or a function, got ${show(value)}`);
}

function keepAliveOption(value: unknown): { ms: number | false; profile: string } {
  if (value === undefined)
    return { ms: DEFAULTS.keepAlive, profile: DEFAULTS.keepAliveProfile } as const;
  if (value === false) return { ms: false, profile: 'off' };
  if (typeof value === 'string' && Object.hasOwn(KEEP_ALIVE_PROFILES, value))
    return { ms: KEEP_ALIVE_PROFILES[value as KeepAliveProfile], profile: value };
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1000 && value <= 3_600_000)
    return { ms: value, profile: 'custom' };
  throw invalid(
    'keepAlive',
    `expected ${Object.keys(KEEP_ALIVE_PROFILES).join(', ')}, milliseconds (1000 to 3600000) or false, got ${show(value)}`,
  );
}

function signalsOption(value: unknown): readonly GuardSignal[] {
  if (value === undefined) return DEFAULTS.signals;
  if (value === false) return [];
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string' || !SIGNALS.has(s)))
    throw invalid('signals', `expected false or a list of ${[...SIGNALS].join(', ')}`);
  return [...new Set(value as GuardSignal[])];
}

/** Validate once; every later read is a plain property. */
export function resolveOptions(input: GuardOptions | undefined): ResolvedOptions {
  if (input === undefined) return DEFAULTS;
  if (typeof input !== 'object' || input === null)
    throw invalid('options', `expected an object, got ${show(input)}`);
  for (const key of Object.keys(input)) {
    if (!KNOWN.has(key)) {
      throw new H13Error(
        'H13_ERR_UNKNOWN_OPTION',
        `guard: unknown option ${JSON.stringify(key)} (known: ${[...KNOWN].join(', ')})`,
        { field: key },
      );
    }
  }
  const steps = input.steps ?? DEFAULTS.steps;
  if (!STEP_MODES.has(steps))
    throw invalid('steps', `expected 'failure', 'live' or 'off', got ${show(steps)}`);
  const keepAlive = keepAliveOption(input.keepAlive);
  return {
    log: logOption(input.log),
    requestId: bool(input.requestId, 'requestId', DEFAULTS.requestId),
    context: bool(input.context, 'context', DEFAULTS.context),
    steps,
    maxSteps: integer(input.maxSteps, 'maxSteps', DEFAULTS.maxSteps, 1, 1000),
    stackFrames: integer(input.stackFrames, 'stackFrames', DEFAULTS.stackFrames, 1, 50),
    keepAlive: keepAlive.ms,
    keepAliveProfile: keepAlive.profile,
    clientErrors: bool(input.clientErrors, 'clientErrors', DEFAULTS.clientErrors),
    clientErrorLingerMs: duration(
      input.clientErrorLingerMs,
      'clientErrorLingerMs',
      DEFAULTS.clientErrorLingerMs,
      60_000,
    ),
    clientErrorLingerBytes: integer(
      input.clientErrorLingerBytes,
      'clientErrorLingerBytes',
      DEFAULTS.clientErrorLingerBytes,
      0,
      1024 * 1024 * 1024,
    ),
    answer: bool(input.answer, 'answer', DEFAULTS.answer),
    signals: signalsOption(input.signals),
    lateWindowMs: duration(input.lateWindowMs, 'lateWindowMs', DEFAULTS.lateWindowMs),
    idleQuietMs: duration(input.idleQuietMs, 'idleQuietMs', DEFAULTS.idleQuietMs),
    drainTimeoutMs: duration(input.drainTimeoutMs, 'drainTimeoutMs', DEFAULTS.drainTimeoutMs),
    hookTimeoutMs: duration(input.hookTimeoutMs, 'hookTimeoutMs', DEFAULTS.hookTimeoutMs),
    crash: bool(input.crash, 'crash', DEFAULTS.crash),
    deferCrashToApp: bool(input.deferCrashToApp, 'deferCrashToApp', DEFAULTS.deferCrashToApp),
    crashTimeoutMs: duration(input.crashTimeoutMs, 'crashTimeoutMs', DEFAULTS.crashTimeoutMs),
    exit: bool(input.exit, 'exit', DEFAULTS.exit),
  };
}

/**
 * Options from the environment for `--import h13/register`: H13_GUARD holds a JSON object of
 * the same options (log must be 'stderr' or 'stdout' there; durations may be '1.5s').
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv): GuardOptions {
  const raw = env.H13_GUARD;
  if (raw === undefined || raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new H13Error(
      'H13_ERR_INVALID_OPTION',
      `H13_GUARD is not a JSON object of guard options: ${(err as Error).message}`,
      { field: 'H13_GUARD' },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new H13Error('H13_ERR_INVALID_OPTION', 'H13_GUARD must be a JSON object', {
      field: 'H13_GUARD',
    });
  const options = { ...(parsed as Record<string, unknown>) };
  // Text may spell durations with a unit ("1.5s"); a bare number string is refused there.
  for (const key of DURATION_OPTIONS) {
    const value = options[key];
    if (typeof value === 'string') options[key] = parseDuration(value, `H13_GUARD ${key}`);
  }
  return options as GuardOptions;
}

/** Whether drain + hooks fit the platform's 30 s window with a margin (warned, not refused). */
export function fitsPlatformWindow(o: ResolvedOptions): boolean {
  return o.drainTimeoutMs + o.hookTimeoutMs <= PLATFORM_WINDOW_MS - PLATFORM_MARGIN_MS;
}
