/**
 * Send raw bytes on a fresh TCP connection and say how the server ended the exchange, in the
 * terms that matter behind a proxy: answered (a complete response), truncated (part of one:
 * H18), silent (FIN with zero bytes: H13), reset (RST: H13 or H18), open (nothing decisive
 * before the deadline: H12/H15), refused (nothing listening: H21/H10).
 *
 * The connection is never half-closed by default: a client FIN makes Node end the socket
 * itself (shared/research/node-http.md §1.5 item 4), which would blame the server for the
 * client's doing.
 */

import net from 'node:net';
import { type ResponseHead, ResponseParser } from './response-parser.js';

export type Ending = 'answered' | 'truncated' | 'silent' | 'reset' | 'open' | 'refused';

export interface ExchangeResult {
  readonly ending: Ending;
  /** The final response's head, when one arrived whole. */
  readonly head: ResponseHead | null;
  readonly status: number | null;
  /** Statuses of 1xx responses before the final one. */
  readonly interim: readonly number[];
  readonly bytesReceived: number;
  /** The first bytes received (up to `keepBytes`), for display. */
  readonly received: Buffer;
  /** The body of a complete response (up to `keepBytes`). */
  readonly body: Buffer;
  /** How the connection ended: peer FIN, peer RST, or still open when we stopped. */
  readonly closedBy: 'fin' | 'rst' | 'open';
  readonly elapsedMs: number;
  /** The parser's complaint when the bytes were not valid HTTP. */
  readonly malformed: string | null;
}

export interface ExchangeOptions {
  readonly host: string;
  readonly port: number;
  readonly bytes: Buffer | string;
  /** Deadline for the whole exchange, from connect. */
  readonly timeoutMs: number;
  /** Method of the request, so a HEAD response is read without a body. */
  readonly method?: string;
  /** Send FIN after the bytes (off by default, see above). */
  readonly halfClose?: boolean;
  /** After a complete response, wait for the server's close (to see FIN vs keep-alive). */
  readonly waitForClose?: boolean;
  readonly keepBytes?: number;
}

export function exchange(options: ExchangeOptions): Promise<ExchangeResult> {
  const started = performance.now();
  const keep = options.keepBytes ?? 64 * 1024;
  const parser = new ResponseParser(options.method ?? methodOf(options.bytes), { restrict: false });
  const kept: Buffer[] = [];
  const bodyKept: Buffer[] = [];
  let keptBytes = 0;
  let bodyBytes = 0;
  let received = 0;
  const interim: number[] = [];
  let complete = false;

  return new Promise((resolve) => {
    const socket = net.connect({ host: options.host, port: options.port });
    let settled = false;
    const finish = (ending: Ending, closedBy: ExchangeResult['closedBy']) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const head = parser.head;
      resolve({
        ending,
        head,
        status: head?.status ?? null,
        interim,
        bytesReceived: received,
        received: Buffer.concat(kept),
        body: Buffer.concat(bodyKept),
        closedBy,
        elapsedMs: performance.now() - started,
        malformed: parser.fault?.detail ?? null,
      });
    };
    // At the deadline an unfinished response is "still open" (H12/H15 territory), whether or
    // not some bytes came: truncated means the server closed mid-response.
    const timer = setTimeout(
      () => finish(complete ? 'answered' : 'open', 'open'),
      options.timeoutMs,
    );

    socket.on('connect', () => {
      socket.write(options.bytes);
      if (options.halfClose === true) socket.end();
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (keptBytes < keep) {
        kept.push(chunk.subarray(0, keep - keptBytes));
        keptBytes += Math.min(chunk.length, keep - keptBytes);
      }
      if (complete || parser.phase === 'error') return;
      const r = parser.push(chunk);
      for (const h of r.interim) interim.push(h.status);
      if (parser.head !== null && bodyBytes < keep) {
        const from = r.head !== null ? r.bodyStart : 0;
        const to = r.end ?? chunk.length;
        if (to > from) {
          bodyKept.push(chunk.subarray(from, Math.min(to, from + keep - bodyBytes)));
          bodyBytes += to - from;
        }
      }
      if (parser.phase === 'done') {
        complete = true;
        if (options.waitForClose !== true) finish('answered', 'open');
      }
    });
    socket.on('end', () => {
      complete ||= parser.finish();
      finish(complete ? 'answered' : received > 0 ? 'truncated' : 'silent', 'fin');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') return finish('refused', 'rst');
      if (complete) return finish('answered', 'rst');
      finish(received > 0 ? 'truncated' : 'reset', 'rst');
    });
    socket.on('close', () =>
      finish(complete ? 'answered' : received > 0 ? 'truncated' : 'silent', 'fin'),
    );
  });
}

function methodOf(bytes: Buffer | string): string {
  const text = typeof bytes === 'string' ? bytes.slice(0, 16) : bytes.toString('latin1', 0, 16);
  return text.split(' ', 1)[0] ?? 'GET';
}

/** Bytes as a reader can see them: printable ASCII kept, everything else `\xHH` / `\r` / `\n`. */
export function escapeBytes(buf: Buffer | string, max = 200): string {
  const b = typeof buf === 'string' ? Buffer.from(buf, 'latin1') : buf;
  let out = '';
  for (let i = 0; i < b.length && i < max; i++) {
    const c = b[i] as number;
    if (c === 13) out += '\\r';
    else if (c === 10) out += '\\n';
    else if (c === 9) out += '\\t';
    else if (c === 92) out += '\\\\';
    else if (c >= 32 && c < 127) out += String.fromCharCode(c);
    else out += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return b.length > max ? `${out}… (${b.length} bytes)` : out;
}
