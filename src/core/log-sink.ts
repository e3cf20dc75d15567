/**
 * Where `heroku logs`-shaped lines go. The router, the dyno manager and the app's own output
 * all write entries here; the sink formats each one once, as a `heroku logs` line or as one
 * JSON object per line (`--log-format json`), and never lets a message span two lines.
 */

import type { Writable } from 'node:stream';
import { formatTimestamp, nowMicros } from './heroku-log.js';
import { safeJson } from './safe-json.js';

export type LogFormat = 'heroku' | 'json';

export interface LogEntry {
  readonly micros: number;
  /** `heroku`, `app`. */
  readonly source: string;
  /** `router`, `web.1`, `api`. */
  readonly process: string;
  readonly message: string;
  /** Structured fields behind the message (router lines), written as-is in JSON format. */
  readonly fields?: Readonly<Record<string, unknown>>;
}

export interface LogSink {
  write(entry: LogEntry): void;
  /**
   * Whether this sink writes `fields` (the JSON format). false lets a producer skip building
   * them on its hot path; undefined (a sink written elsewhere) means build them.
   */
  readonly wantsFields?: boolean;
  /** Convenience: an entry stamped now. */
  line(
    source: string,
    processName: string,
    message: string,
    fields?: Readonly<Record<string, unknown>>,
  ): void;
}

// Every C0 control but TAB, DEL, C1 controls and the Unicode line separators. Backslashes
// are left alone: `heroku logs` shows app output as written (JSON logs keep their `\"`).
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');

function escapeChar(c: string): string {
  if (c === '\r') return '\\r';
  if (c === '\n') return '\\n';
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * App output is the app's own bytes: a CR or LF inside one line must not start another, and
 * terminal escapes (ESC...) must not reach the reader's terminal.
 */
export function oneLine(message: string): string {
  return UNSAFE.test(message) ? message.replace(UNSAFE_ALL, escapeChar) : message;
}

export function createLogSink(format: LogFormat, out: Pick<Writable, 'write'>): LogSink {
  const write = (entry: LogEntry) => {
    if (format === 'json') {
      out.write(
        `${safeJson({
          timestamp: formatTimestamp(entry.micros),
          source: entry.source,
          process: entry.process,
          message: entry.message,
          ...(entry.fields ?? {}),
        })}\n`,
      );
    } else {
      // Router messages come out of the logfmt writer, already one safe line: skip the scan.
      const message =
        entry.process === 'router' && entry.source === 'heroku'
          ? entry.message
          : oneLine(entry.message);
      out.write(`${formatTimestamp(entry.micros)} ${entry.source}[${entry.process}]: ${message}\n`);
    }
  };
  return {
    write,
    wantsFields: format === 'json',
    line: (source, processName, message, fields) =>
      write(
        fields === undefined
          ? { micros: nowMicros(), source, process: processName, message }
          : { micros: nowMicros(), source, process: processName, message, fields },
      ),
  };
}
