/**
 * `h13 run --drain URL`: every line of the `heroku logs` stream also goes to a log drain, the
 * way Heroku's logplex delivers an HTTPS drain (heroku/logplex doc/README.http_drains.md and
 * src/logplex_http_drain.erl): `POST` `application/logplex-1` batches of octet-counted frames
 * aimed at 100 KiB, with `Logplex-Msg-Count`, `Logplex-Frame-Id` (the same on a retry) and
 * `Logplex-Drain-Token`, Basic auth from the URL's userinfo, one batch in flight.
 *
 * `write` only frames and queues: the router and the dynos never wait for the drain. The
 * queue is bounded in lines and bytes; past either, the oldest line is dropped and counted,
 * and the next batch starts with logplex's own report of the loss,
 * `Error L10 (output buffer overflow): N messages dropped since TIME.`, so the drain sees it.
 *
 * Where this differs from logplex, and why: logplex gives up on a batch after 2 retries; here
 * the batch in flight is retried (429, 5xx, network errors, timeouts) with backoff until it is
 * delivered, so a drain started after `h13 run` still gets what was buffered. A 4xx other
 * than 429 is final, as in logplex: the batch is dropped, counted and reported.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { H13Error } from '../core/errors.js';
import { formatTimestamp, nowMicros } from '../core/heroku-log.js';
import {
  type FrameEntry,
  LOGPLEX_BUFFER_MESSAGES,
  LOGPLEX_TARGET_BYTES,
  logplexFrame,
} from '../core/logplex-frame.js';

export interface LogDrainOptions {
  /** The drain URL, `http(s)://USER:PASS@host/drain/APP`; the only address traffic goes to. */
  readonly url: string;
  /** Lines held while the drain is slow or down (1 024, logplex's buffer). */
  readonly bufferLines?: number;
  /** Bytes of frames held (4 MiB). */
  readonly bufferBytes?: number;
  /** One request's deadline (5 s, logplex's REQUEST_TIMEOUT). */
  readonly requestTimeoutMs?: number;
  /** Longest wait between retries of a batch (5 s). */
  readonly retryMaxMs?: number;
  /** Where the forwarder says what goes wrong (drain down, lines dropped, 4xx): one line each. */
  readonly report?: (message: string) => void;
}

export interface LogDrainStats {
  /** Lines the drain acknowledged with a 2xx. */
  readonly delivered: number;
  /** Lines dropped because the buffer was full (oldest first). */
  readonly dropped: number;
  /** Lines in batches the drain refused for good (a 4xx other than 429). */
  readonly rejected: number;
  /** Lines still queued or in flight. */
  readonly pending: number;
  /** Requests that failed and were retried. */
  readonly retries: number;
}

export interface LogDrain {
  /** Queue one entry; never waits. Ignored after `close`. */
  write(entry: FrameEntry): void;
  stats(): LogDrainStats;
  /** Send what is queued, for at most `flushMs`; then give up the rest (counted as dropped). */
  close(flushMs: number): Promise<LogDrainStats>;
}

interface Target {
  readonly url: URL;
  readonly https: boolean;
  readonly authorization: string | undefined;
  /** The URL without its userinfo: what reports may show. */
  readonly shown: string;
}

/** The drain URL the user named: http or https, userinfo turned into Basic auth. */
export function parseDrainUrl(text: string): Target {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new H13Error(
      'H13_ERR_INVALID_URL',
      `--drain: not a URL (example: https://h13:PASSWORD@drain.example.com/drain/my-app)`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new H13Error(
      'H13_ERR_INVALID_URL',
      `--drain: ${url.protocol} is not http: or https: (a log drain is an HTTP(S) URL)`,
    );
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  const authorization =
    user === '' && password === ''
      ? undefined
      : `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
  url.username = '';
  url.password = '';
  return { url, https: url.protocol === 'https:', authorization, shown: url.href };
}

/** 2xx: delivered; 429 and 5xx: try again; any other answer: refused for good (as logplex). */
function outcome(status: number): 'ok' | 'retry' | 'refused' {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 429 || status >= 500) return 'retry';
  return 'refused';
}

interface Batch {
  readonly body: Buffer;
  /** Frames in the body: the lines, and logplex's L10 report when lines were dropped. */
  readonly frames: number;
  /** Lines of the stream in the body. */
  readonly lines: number;
  readonly frameId: string;
}

const RETRY_FIRST_MS = 250;

export function startLogDrain(options: LogDrainOptions): LogDrain {
  const target = parseDrainUrl(options.url);
  const maxLines = options.bufferLines ?? LOGPLEX_BUFFER_MESSAGES;
  const maxBytes = options.bufferBytes ?? 4 * 1024 * 1024;
  const requestTimeoutMs = options.requestTimeoutMs ?? 5000;
  const retryMaxMs = options.retryMaxMs ?? 5000;
  const report = options.report ?? (() => {});
  const token = `d.${randomUUID()}`;
  const agent = target.https
    ? new HttpsAgent({ keepAlive: true, maxSockets: 1 })
    : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  const send = target.https ? httpsRequest : httpRequest;

  // The queue: a ring of maxLines slots, so its memory is fixed however long the drain is down.
  const ring: Array<Buffer | undefined> = new Array(maxLines);
  let head = 0;
  let size = 0;
  let queuedBytes = 0;
  let droppedSinceReport = 0;
  let firstDropMicros = 0;
  let inFlight: Batch | null = null;
  let scheduled = false;
  let retryTimer: NodeJS.Timeout | null = null;
  const firstDelayMs = Math.min(RETRY_FIRST_MS, retryMaxMs);
  let retryDelayMs = firstDelayMs;
  let down = false;
  let closing = false;
  let closed = false;
  let current: ReturnType<typeof httpRequest> | null = null;
  const counts = { delivered: 0, dropped: 0, rejected: 0, retries: 0 };
  const idle = new Set<() => void>();

  const queuedLines = () => size;
  const shift = (): Buffer => {
    const frame = ring[head] as Buffer;
    ring[head] = undefined;
    head = (head + 1) % maxLines;
    size--;
    queuedBytes -= frame.length;
    return frame;
  };
  const stats = (): LogDrainStats => ({
    ...counts,
    pending: queuedLines() + (inFlight?.lines ?? 0),
  });

  function dropOldest(): void {
    if (size === 0) return;
    shift();
    counts.dropped++;
    if (droppedSinceReport === 0) {
      firstDropMicros = nowMicros();
      report(
        `the drain is behind and its buffer (${maxLines} lines) is full: dropping the oldest lines`,
      );
    }
    droppedSinceReport++;
  }

  function nextBatch(): Batch | null {
    const parts: Buffer[] = [];
    let bytes = 0;
    const lossFrames = droppedSinceReport > 0 ? 1 : 0;
    if (lossFrames > 0) {
      // logplex's loss message (src/logplex_syslog_utils.erl), sent ahead of what is left.
      parts.push(
        logplexFrame({
          micros: nowMicros(),
          source: 'heroku',
          process: 'logplex',
          message: `Error L10 (output buffer overflow): ${droppedSinceReport} messages dropped since ${formatTimestamp(firstDropMicros)}.`,
        }),
      );
      bytes += parts[0]?.length ?? 0;
      droppedSinceReport = 0;
    }
    while (size > 0) {
      const next = (ring[head] as Buffer).length;
      if (parts.length > 0 && bytes + next > LOGPLEX_TARGET_BYTES) break;
      parts.push(shift());
      bytes += next;
    }
    if (parts.length === 0) return null;
    return {
      body: Buffer.concat(parts, bytes),
      frames: parts.length,
      lines: parts.length - lossFrames,
      frameId: randomBytes(16).toString('hex').toUpperCase(),
    };
  }

  function settleIdle(): void {
    if (inFlight !== null || queuedLines() > 0 || droppedSinceReport > 0) return;
    for (const done of idle) done();
  }

  function schedule(): void {
    if (scheduled || inFlight !== null || retryTimer !== null || closed) return;
    scheduled = true;
    // Lines written in the same turn of the event loop share a batch.
    setImmediate(() => {
      scheduled = false;
      if (inFlight !== null || closed) return;
      inFlight = nextBatch();
      if (inFlight === null) settleIdle();
      else post(inFlight);
    });
  }

  function retry(batch: Batch, why: string): void {
    counts.retries++;
    if (!down) {
      down = true;
      report(`cannot deliver to ${target.shown} (${why}): retrying with backoff`);
    }
    const delay = closing ? firstDelayMs : retryDelayMs;
    retryDelayMs = Math.min(retryDelayMs * 2, retryMaxMs);
    retryTimer = setTimeout(() => {
      retryTimer = null;
      if (!closed) post(batch);
    }, delay);
  }

  function finished(batch: Batch, result: 'ok' | 'refused', status: number): void {
    inFlight = null;
    retryDelayMs = firstDelayMs;
    if (result === 'ok') {
      counts.delivered += batch.lines;
      if (down) {
        down = false;
        report(`delivering to ${target.shown} again`);
      }
    } else {
      counts.rejected += batch.lines;
      report(
        `${target.shown} refused a batch of ${batch.lines} lines with ${status}: dropped (as logplex drops it)`,
      );
    }
    if (queuedLines() > 0 || droppedSinceReport > 0) schedule();
    else settleIdle();
  }

  function post(batch: Batch): void {
    let done = false;
    const once = (then: () => void) => {
      if (done) return;
      done = true;
      current = null;
      then();
    };
    const req = send(target.url, {
      method: 'POST',
      agent,
      timeout: requestTimeoutMs,
      headers: {
        'content-type': 'application/logplex-1',
        'content-length': String(batch.body.length),
        'logplex-msg-count': String(batch.frames),
        'logplex-frame-id': batch.frameId,
        'logplex-drain-token': token,
        'user-agent': 'h13-run (logplex-1)',
        ...(target.authorization === undefined ? {} : { authorization: target.authorization }),
      },
    });
    current = req;
    req.on('response', (res: IncomingMessage) => {
      res.resume();
      const status = res.statusCode ?? 0;
      const then = () => {
        const result = outcome(status);
        if (result === 'retry') retry(batch, `answered ${status}`);
        else finished(batch, result, status);
      };
      // 'close' also covers an answer cut short: the status decides all the same.
      res.once('end', () => once(then));
      res.once('close', () => once(then));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${requestTimeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) =>
      once(() => (closed ? undefined : retry(batch, err.code ?? err.message))),
    );
    req.end(batch.body);
  }

  return {
    write(entry) {
      if (closed) return;
      const frame = logplexFrame(entry);
      if (size === maxLines) dropOldest();
      ring[(head + size) % maxLines] = frame;
      size++;
      queuedBytes += frame.length;
      while (queuedBytes > maxBytes && size > 1) dropOldest();
      schedule();
    },
    stats,
    close(flushMs) {
      if (closed) return Promise.resolve(stats());
      closing = true;
      // A batch waiting out a long backoff is tried again now.
      if (retryTimer !== null && inFlight !== null) {
        clearTimeout(retryTimer);
        retryTimer = null;
        post(inFlight);
      }
      schedule();
      return new Promise<LogDrainStats>((resolve) => {
        const end = () => {
          clearTimeout(deadline);
          idle.delete(end);
          closed = true;
          if (retryTimer !== null) clearTimeout(retryTimer);
          current?.destroy();
          const left = stats().pending;
          if (left > 0) {
            counts.dropped += left;
            report(`stopped with ${left} lines not delivered to ${target.shown}`);
          }
          ring.fill(undefined);
          head = 0;
          size = 0;
          queuedBytes = 0;
          inFlight = null;
          agent.destroy();
          resolve({ ...counts, pending: 0 });
        };
        const deadline = setTimeout(end, flushMs);
        idle.add(end);
        settleIdle();
      });
    },
  };
}
