/**
 * Slow clients: a connection that sends nothing, a head that trickles in, a body that trickles
 * in. Node answers 408 when headersTimeout/requestTimeout fire (Node ≥ 18); a server that
 * closes instead leaves the request unanswered. Only the slow body is an H13 risk behind
 * Heroku: the router reads the whole head itself (its own 60 s limit) before it connects to
 * the app, but it streams the body to the app as the client sends it.
 */

import type { Ending } from '../http/raw-exchange.js';
import { ENDING_WORDS, type Finding } from './findings.js';
import { ProbeConnection } from './http-conn.js';
import type { ProbeTarget } from './target.js';

export const TIMEOUT_CHECKS = {
  'idle-connection': 'connect and send nothing',
  'slow-head': 'send a request head one byte per drip interval',
  'slow-body': 'send a complete head, then the body one byte per drip interval',
} as const;

export type TimeoutCheck = keyof typeof TIMEOUT_CHECKS;

export interface TimeoutOptions {
  /** How long to keep each slow client going before giving up. */
  readonly waitMs: number;
  /** Interval between bytes. */
  readonly dripMs: number;
  readonly connectTimeoutMs: number;
}

export interface TimeoutResult {
  readonly id: TimeoutCheck;
  readonly what: string;
  readonly ending: Ending;
  readonly status: number | null;
  readonly afterMs: number;
  readonly bytesSent: number;
  readonly finding: Finding | null;
}

const SLOW_BODY_LENGTH = 1_000_000;

export async function runTimeouts(
  target: ProbeTarget,
  options: TimeoutOptions,
): Promise<TimeoutResult[]> {
  const head = `GET ${target.path} HTTP/1.1\r\nHost: ${target.hostHeader}\r\n`;
  const bodyHead = `POST ${target.path} HTTP/1.1\r\nHost: ${target.hostHeader}\r\nContent-Length: ${SLOW_BODY_LENGTH}\r\n\r\n`;
  return Promise.all([
    slowClient(target, 'idle-connection', '', null, options),
    slowClient(target, 'slow-head', head, 'X-Slow: ', options),
    slowClient(target, 'slow-body', bodyHead, '', options),
  ]);
}

/** Write `first`, then one byte per drip (of `dripPrefix` then `a`s) until the server acts. */
async function slowClient(
  target: ProbeTarget,
  id: TimeoutCheck,
  first: string,
  dripPrefix: string | null,
  options: TimeoutOptions,
): Promise<TimeoutResult> {
  const started = performance.now();
  const conn = await ProbeConnection.open(target, options.connectTimeoutMs);
  if (conn === 'refused') {
    return {
      id,
      what: TIMEOUT_CHECKS[id],
      ending: 'refused',
      status: null,
      afterMs: 0,
      bytesSent: 0,
      finding: null,
    };
  }
  let sent = 0;
  const write = (text: string) => {
    if (!conn.open || text === '') return;
    conn.socket.write(text, 'latin1');
    sent += text.length;
  };
  const outcome = conn.expect(id === 'slow-body' ? 'POST' : 'GET', options.waitMs);
  write(first);
  const drip = id === 'idle-connection' ? [] : [...(dripPrefix ?? '')];
  const timer =
    id === 'idle-connection'
      ? undefined
      : setInterval(() => write(drip.shift() ?? 'a'), options.dripMs);
  try {
    const r = await outcome;
    const afterMs = Math.round(r.at - started);
    return {
      id,
      what: TIMEOUT_CHECKS[id],
      ending: r.ending,
      status: r.status,
      afterMs,
      bytesSent: sent,
      finding: id === 'slow-body' ? slowBodyFinding(r.ending, afterMs) : null,
    };
  } finally {
    clearInterval(timer);
    conn.destroy();
  }
}

function slowBodyFinding(ending: Ending, afterMs: number): Finding | null {
  if (ending !== 'silent' && ending !== 'reset' && ending !== 'truncated') return null;
  const code = ending === 'truncated' ? 'H18' : 'H13';
  return {
    group: 'timeouts',
    id: 'slow-body',
    code,
    summary:
      `an upload still arriving after ${(afterMs / 1000).toFixed(1)} s was ${ENDING_WORDS[ending]}: ` +
      `behind Heroku (which streams bodies to the app) that is an ${code}`,
    cause:
      'A timeout destroyed the socket instead of answering: server.timeout or socket.setTimeout ' +
      "without a 'timeout' listener, or a 'clientError' listener that destroys on " +
      'ERR_HTTP_REQUEST_TIMEOUT (Node answers 408 by default).',
    fix:
      'Answer 408 (Connection: close) when a request times out; set server.requestTimeout ' +
      'above the longest legitimate upload and leave server.timeout at 0 behind a router.',
  };
}
