/**
 * A finding is something the server did that Heroku's router would log as an error (H13, H18,
 * H12) or that makes one likely (a keep-alive timeout below the proxy's). Every finding names
 * the likely cause and the fix; the texts live here so the table, the JSON and the docs agree.
 */

import type { Ending } from '../http/raw-exchange.js';

export const PROBE_GROUPS = ['bad-requests', 'keepalive', 'timeouts', 'shutdown', 'crash'] as const;
export type ProbeGroup = (typeof PROBE_GROUPS)[number];

export interface Finding {
  readonly group: ProbeGroup;
  /** The case or check it is about (`seed-qmark-target`, `idle-timeout`, `sigterm`...). */
  readonly id: string;
  /** What Heroku's router would log: H13, H18, H12, or H21 (refused during shutdown). */
  readonly code: 'H13' | 'H18' | 'H12' | 'H21';
  readonly summary: string;
  readonly cause: string;
  readonly fix: string;
}

/** The router code for an ending of a request the router forwarded, or null when it is fine. */
export function codeForEnding(ending: Ending): Finding['code'] | null {
  switch (ending) {
    case 'silent':
    case 'reset':
      return 'H13';
    case 'truncated':
      return 'H18';
    case 'open':
      return 'H12';
    default:
      return null;
  }
}

export const ENDING_WORDS: Readonly<Record<Ending, string>> = {
  answered: 'answered',
  truncated: 'closed in the middle of a response',
  silent: 'closed without a response (FIN, zero bytes)',
  reset: 'reset without a response (RST, zero bytes)',
  open: 'no response before the deadline, connection still open',
  refused: 'connection refused',
};

export const CAUSES = {
  parserClose: {
    cause:
      "Node's parser rejected the request and the connection was closed without the 400 Node " +
      "writes by default: a 'clientError' listener (or a framework's) that destroys the socket, " +
      'or Node older than 9.',
    fix:
      "In the 'clientError' listener, when socket.writable, write " +
      '"HTTP/1.1 400 Bad Request\\r\\nConnection: close\\r\\n\\r\\n" (431 for HPE_HEADER_OVERFLOW, ' +
      '408 for ERR_HTTP_REQUEST_TIMEOUT) and then end the socket; or remove the listener.',
  },
  parserHang: {
    cause:
      "The parse error was swallowed: a 'clientError' listener that neither answers nor closes " +
      'the socket (it leaks until a timeout), or a server that waits for bytes a valid request ' +
      'would not need.',
    fix: "Make the 'clientError' listener answer 400 and close the socket.",
  },
  truncated: {
    cause:
      'The response had started when the request turned out to be malformed (for example a ' +
      'chunked body error while the handler streams its answer): Node then destroys the socket ' +
      'without finishing the response.',
    fix: 'Read (and validate) the whole request body before writing the response head.',
  },
  earlyReset: {
    cause:
      'The server answered before reading the request body and closed at once; the unread ' +
      'body makes the kernel send RST, which can discard the answer (RFC 9112 §9.6).',
    fix:
      'Drain the request body (req.resume()) before closing, or answer with Connection: close ' +
      'and end the socket gracefully instead of destroying it.',
  },
  answerLostToRst: {
    cause:
      'The server answered 400 to a bad request that carries a body and closed at once with the ' +
      "body unread (Node's own answer does this): the kernel sends RST, which can discard the " +
      '400 before the client reads it (RFC 9112 §9.6). Intermittent, more often under load ' +
      'and with larger bodies.',
    fix:
      "Load h13's guard (it sends FIN after the 400 and reads and discards the rest for a " +
      "bounded time), or in a 'clientError' listener write the 400 with socket.end() instead " +
      'of destroying the socket, and destroy it after a short timeout.',
  },
} as const;
