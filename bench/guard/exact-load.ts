/**
 * A load generator that sends an exact number of keep-alive GETs and reads every response
 * whole, for benchmarks that divide a count (instructions, allocations) by requests: wrk and
 * autocannon run for a duration and stop mid-request.
 */

import net from 'node:net';

/** A response head larger than this is an error, not something to buffer. */
const MAX_HEAD_BYTES = 16 * 1024;
/** Bodies are counted and dropped, never kept; larger than this is an error all the same. */
const MAX_BODY_BYTES = 1024 * 1024 * 1024;

export interface ExactLoadOptions {
  readonly port: number;
  readonly requests: number;
  readonly connections: number;
  /** Extra request header lines, without CRLF (for example `X-Request-Id: …`). */
  readonly headers?: readonly string[];
  /** Give up after this long without finishing. */
  readonly timeoutMs?: number;
  /**
   * After this many answers, send nothing more until onPause has returned, then go on over the
   * same connections. New connections would change the shapes the server's JIT code has seen
   * and send it back to the compiler.
   */
  readonly pauseAt?: number;
  readonly onPause?: () => void | Promise<void>;
}

/** Resolves once `requests` 200 responses have been read; rejects on anything else. */
export function exactLoad(options: ExactLoadOptions): Promise<void> {
  const { port, requests, connections, pauseAt } = options;
  if (pauseAt !== undefined && !(pauseAt >= 1 && pauseAt < requests))
    throw new RangeError('exact load: pauseAt must be between 1 and requests - 1');
  const lines = (options.headers ?? []).map((h) => `${h}\r\n`).join('');
  const request = Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${lines}\r\n`, 'latin1');
  let sent = 0;
  let answered = 0;
  const sockets: net.Socket[] = [];
  /** Connections with nothing to send while paused. */
  const waiting: net.Socket[] = [];
  /** Connections this side ended (a server's FIN also ends the writable side). */
  const endedHere = new WeakSet<net.Socket>();
  let paused = pauseAt !== undefined;
  let resuming = false;
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`exact load: ${answered} of ${requests} answered in time`)),
      options.timeoutMs ?? 600_000,
    );
    const fail = (err: Error) => {
      clearTimeout(timer);
      for (const s of sockets) s.destroy();
      reject(err);
    };
    const resume = async () => {
      resuming = true;
      try {
        await options.onPause?.();
      } catch (err) {
        fail(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      paused = false;
      for (const socket of waiting.splice(0)) next(socket);
    };
    const next = (socket: net.Socket) => {
      if (paused && sent === pauseAt) {
        waiting.push(socket);
        if (answered === pauseAt && !resuming) void resume();
        return;
      }
      if (sent < requests) {
        sent++;
        socket.write(request);
      } else {
        endedHere.add(socket);
        socket.end();
      }
    };
    for (let c = 0; c < Math.min(connections, requests); c++) {
      const socket = net.connect(port, '127.0.0.1');
      sockets.push(socket);
      let buffered: Buffer = Buffer.alloc(0);
      let bodyLeft = -1;
      socket.on('connect', () => next(socket));
      socket.on('error', fail);
      // A connection the server closes while answers are still owed would otherwise leave
      // the load waiting for its timeout.
      socket.on('close', () => {
        if (answered < requests && !endedHere.has(socket))
          fail(new Error(`exact load: the server closed a connection after ${answered} answers`));
      });
      socket.on('data', (chunk: Buffer) => {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        for (;;) {
          if (bodyLeft < 0) {
            const end = buffered.indexOf('\r\n\r\n');
            if (end < 0) {
              if (buffered.length > MAX_HEAD_BYTES) fail(new Error('exact load: head too large'));
              return;
            }
            const head = buffered.subarray(0, end).toString('latin1');
            if (!head.startsWith('HTTP/1.1 200 ')) {
              fail(new Error(`exact load: unexpected response ${JSON.stringify(head)}`));
              return;
            }
            const length = /\r\ncontent-length: *(\d+)/i.exec(head);
            if (length === null) {
              fail(new Error('exact load: a response without Content-Length'));
              return;
            }
            bodyLeft = Number(length[1]);
            if (bodyLeft > MAX_BODY_BYTES) {
              fail(new Error(`exact load: a body of ${bodyLeft} bytes`));
              return;
            }
            buffered = buffered.subarray(end + 4);
          }
          const take = Math.min(buffered.length, bodyLeft);
          buffered = buffered.subarray(take);
          bodyLeft -= take;
          if (bodyLeft > 0) return;
          bodyLeft = -1;
          answered++;
          if (answered === requests) {
            clearTimeout(timer);
            for (const s of sockets) {
              endedHere.add(s);
              s.end();
            }
            resolve();
            return;
          }
          next(socket);
        }
      });
    }
  });
}
