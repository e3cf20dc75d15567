/**
 * One `heroku logs` entry as the frame a Heroku log drain receives: RFC 6587 octet counting
 * around an RFC 5424 message without the structured-data field,
 * `LEN <PRI>1 TIMESTAMP host SOURCE PROC - MESSAGE` (heroku/logplex doc/README.http_drains.md).
 * `h13 run --drain` writes these; `h13 drain` reads them back (src/drain/syslog-line.ts).
 */

import { formatTimestamp } from './heroku-log.js';
import { oneLine } from './log-sink.js';

/** What logplex aims a batch at: `http_drain_target_bytes` (heroku/logplex src/logplex.app.src). */
export const LOGPLEX_TARGET_BYTES = 102_400;

/** logplex's drain buffer: 1 024 messages (`http_drain_buffer_size`, same file). */
export const LOGPLEX_BUFFER_MESSAGES = 1024;

/**
 * Facility local3 (19) for Heroku's own lines, local7 (23) for the app's, severity info (6):
 * the `<158>` and `<190>` every published Heroku drain frame starts with.
 */
function priority(source: string): number {
  return source === 'heroku' ? 158 : 190;
}

export interface FrameEntry {
  readonly micros: number;
  readonly source: string;
  readonly process: string;
  readonly message: string;
}

/**
 * The frame for one entry. The message goes through the same one-line escaping as the
 * `heroku logs` stream, so a frame says what a reader of `h13 run` saw and app output cannot
 * start a second line inside it.
 */
export function logplexFrame(entry: FrameEntry): Buffer {
  const body = `<${priority(entry.source)}>1 ${formatTimestamp(entry.micros)} host ${entry.source} ${entry.process} - ${oneLine(entry.message)}`;
  return Buffer.from(`${Buffer.byteLength(body, 'utf8')} ${body}`, 'utf8');
}
