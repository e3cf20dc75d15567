/**
 * The keep-alive check. Router 2.0 (and ALB, nginx) keep idle connections to the app open and
 * reuse them; when the app closes an idle connection first, a request the proxy sends on it at
 * that moment is lost (shared/research/node-http.md §2.3). So: measure how long the server
 * really keeps an idle connection (one request, then wait for its FIN), compare with the
 * proxy's idle timeout, then send requests on connections right as the server closes them and
 * count the ones lost.
 */

import { escapeBytes } from '../http/raw-exchange.js';
import { headerValues } from '../http/response-parser.js';
import type { Finding } from './findings.js';
import { ProbeConnection } from './http-conn.js';
import { type ProbeTarget, plainRequest } from './target.js';

/** Idle timeouts of the proxies in front of apps (shared/research/node-http.md §2.3). */
export const PROXIES = {
  heroku: { idleMs: 90_000, label: "Heroku's Router 2.0" },
  alb: { idleMs: 60_000, label: 'AWS ALB' },
  nginx: { idleMs: 60_000, label: 'nginx (upstream keepalive_timeout)' },
} as const;

export interface ProxySpec {
  readonly name: string;
  readonly label: string;
  readonly idleMs: number;
}

export interface KeepAliveOptions {
  readonly proxy: ProxySpec;
  /** How long to wait for the server's FIN on an idle connection. */
  readonly waitMs: number;
  /** Requests sent around the measured close (0: skip the race). */
  readonly raceCount: number;
  readonly timeoutMs: number;
}

export interface RaceResult {
  /** Requests written before the server's FIN arrived. */
  readonly sent: number;
  readonly served: number;
  /** Written, then the connection ended with no (complete) response. */
  readonly lost: number;
  /** The FIN arrived first; a proxy would open a new connection instead. */
  readonly closedFirst: number;
  /** Offsets from the measured close, in ms, of the first and last request. */
  readonly fromMs: number;
  readonly toMs: number;
}

export interface KeepAliveResult {
  /**
   * closed: the server closed the idle connection after `idleTimeoutMs`; still-open: not within
   * the wait; no-keepalive: the response said Connection: close (or the server closed at once);
   * failed: the first request got no answer.
   */
  readonly outcome: 'closed' | 'still-open' | 'no-keepalive' | 'failed';
  readonly idleTimeoutMs: number | null;
  /** The `Keep-Alive: timeout=N` the server advertised, in seconds. */
  readonly advertisedSeconds: number | null;
  readonly proxy: ProxySpec;
  readonly waitedMs: number;
  readonly race: RaceResult | null;
  readonly findings: Finding[];
}

export async function runKeepAlive(
  target: ProbeTarget,
  options: KeepAliveOptions,
): Promise<KeepAliveResult> {
  const base = { proxy: options.proxy, waitedMs: options.waitMs };
  const conn = await ProbeConnection.open(target, options.timeoutMs);
  if (conn === 'refused') {
    return {
      ...base,
      outcome: 'failed',
      idleTimeoutMs: null,
      advertisedSeconds: null,
      race: null,
      findings: [],
    };
  }
  try {
    const first = await conn.request(plainRequest(target), 'GET', options.timeoutMs);
    const advertisedSeconds = advertised(first.head);
    if (first.ending !== 'answered') {
      return {
        ...base,
        outcome: 'failed',
        idleTimeoutMs: null,
        advertisedSeconds,
        race: null,
        findings: [],
      };
    }
    const closed = await waitClosed(conn, options.waitMs);
    if (!closed) {
      return {
        ...base,
        outcome: 'still-open',
        idleTimeoutMs: null,
        advertisedSeconds,
        race: null,
        findings: [],
      };
    }
    const idle = Math.max(0, (conn.closedAt ?? first.at) - first.at);
    const keepAliveRefused = headerValues(first.head ?? { headers: [] }, 'connection')
      .join(',')
      .toLowerCase()
      .includes('close');
    if (keepAliveRefused || idle < 5) {
      return {
        ...base,
        outcome: 'no-keepalive',
        idleTimeoutMs: null,
        advertisedSeconds,
        race: null,
        findings: [],
      };
    }
    const race = options.raceCount > 0 ? await runRace(target, idle, options) : null;
    const findings: Finding[] = [];
    // A Via header means a proxy answered (h13 run's router, Heroku's): what closed the
    // connection was that proxy, and the Node advice below would blame the wrong process.
    const via = headerValues(first.head ?? { headers: [] }, 'via').join(', ');
    if (idle < options.proxy.idleMs)
      findings.push(keepAliveFinding(idle, options.proxy, race, via));
    return {
      ...base,
      outcome: 'closed',
      idleTimeoutMs: Math.round(idle),
      advertisedSeconds,
      race,
      findings,
    };
  } finally {
    conn.destroy();
  }
}

function advertised(
  head: { headers: ReadonlyArray<readonly [string, string]> } | null,
): number | null {
  if (head === null) return null;
  const m = /timeout=(\d+)/i.exec(headerValues(head, 'keep-alive').join(','));
  return m === null ? null : Number(m[1]);
}

function waitClosed(conn: ProbeConnection, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void conn.whenClosed().then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Open `raceCount` connections at once, one request each, then send a second request on each
 * at idle + offset, the offsets spread evenly over ±window around the measured close.
 */
async function runRace(
  target: ProbeTarget,
  idleMs: number,
  options: KeepAliveOptions,
): Promise<RaceResult> {
  const window = Math.max(10, Math.min(500, idleMs * 0.005));
  const n = options.raceCount;
  const offsets = Array.from({ length: n }, (_, i) =>
    n === 1 ? 0 : -window + (2 * window * i) / (n - 1),
  );
  const outcomes = await Promise.all(
    offsets.map((offset) => raceOne(target, idleMs + offset, options)),
  );
  let sent = 0;
  let served = 0;
  let lost = 0;
  let closedFirst = 0;
  for (const o of outcomes) {
    if (o === 'closed-first') closedFirst++;
    else if (o === 'failed') continue;
    else {
      sent++;
      if (o === 'served') served++;
      else lost++;
    }
  }
  return {
    sent,
    served,
    lost,
    closedFirst,
    fromMs: Math.round(offsets[0] ?? 0),
    toMs: Math.round(offsets[offsets.length - 1] ?? 0),
  };
}

async function raceOne(
  target: ProbeTarget,
  delayMs: number,
  options: KeepAliveOptions,
): Promise<'served' | 'lost' | 'closed-first' | 'failed'> {
  const conn = await ProbeConnection.open(target, options.timeoutMs);
  if (conn === 'refused') return 'failed';
  try {
    const first = await conn.request(plainRequest(target), 'GET', options.timeoutMs);
    if (first.ending !== 'answered') return 'failed';
    const wait = Math.max(0, first.at + delayMs - performance.now());
    await new Promise((resolve) => setTimeout(resolve, wait));
    if (!conn.open) return 'closed-first';
    const second = await conn.request(plainRequest(target), 'GET', options.timeoutMs);
    return second.ending === 'answered' ? 'served' : 'lost';
  } finally {
    conn.destroy();
  }
}

function keepAliveFinding(
  idleMs: number,
  proxy: ProxySpec,
  race: RaceResult | null,
  via: string,
): Finding {
  const seconds = (idleMs / 1000).toFixed(1);
  const raced =
    race === null
      ? ''
      : ` Of ${race.sent} requests sent within ${race.toMs} ms of that moment, ${race.lost} were lost.`;
  const advice = Math.ceil(proxy.idleMs / 1000) + 5;
  return {
    group: 'keepalive',
    id: 'idle-timeout',
    code: 'H13',
    summary:
      `the server closes idle keep-alive connections after ${seconds} s, before ${proxy.label} ` +
      `does (${proxy.idleMs / 1000} s): a request the proxy sends on such a connection as it ` +
      `closes is lost (Heroku H13/H18, ALB 502, nginx "upstream prematurely closed").${raced}`,
    cause:
      via === ''
        ? "Node's server.keepAliveTimeout (default 5 s; Node 20+ closes 1 s after it) is shorter " +
          "than the proxy's idle timeout, so the app, not the proxy, closes idle connections."
        : `The answer came through a proxy (Via: ${escapeBytes(via, 100)}), so this is its idle ` +
          "close towards clients, not the app's: probe the app itself (--spawn, or its own port) " +
          'to measure its keep-alive timeout.',
    fix:
      `server.keepAliveTimeout = ${advice * 1000}; server.headersTimeout = ${(advice + 1) * 1000}; ` +
      '(keep-alive above the proxy idle timeout, so the proxy always closes first).',
  };
}
