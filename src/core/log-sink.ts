/**
 * Where `heroku logs`-shaped lines go. The router, the dyno manager and the app's own output
 * all write entries here; the sink formats each one once, as a `heroku logs` line or as one
 * JSON object per line (`--log-format json`), and never lets a message span two lines.
 */

import type { Writable } from 'node:stream';
import { formatTimestamp, nowMicros } from './heroku-log.js';

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
  /** Convenience: an entry stamped now. */
  line(
    source: string,
    processName: string,
    message: string,
    fields?: Readonly<Record<string, unknown>>,
  ): void;
}

const LINE_BREAKS = /[\r\n\u2028\u2029]/g;

/** App output is the app's own bytes: a CR or LF inside one line must not start another. */
export function oneLine(message: string): string {
  return message.replace(LINE_BREAKS, (c) =>
    c === '\r' ? '\\r' : c === '\n' ? '\\n' : '\\u' + c.charCodeAt(0).toString(16),
  );
}

export function createLogSink(format: LogFormat, out: Pick<Writable, 'write'>): LogSink {
  const write = (entry: LogEntry) => {
    if (format === 'json') {
      out.write(
        `${JSON.stringify({
          timestamp: formatTimestamp(entry.micros),
          source: entry.source,
          process: entry.process,
          message: entry.message,
          ...(entry.fields ?? {}),
        })}\n`,
      );
    } else {
      out.write(
        `${formatTimestamp(entry.micros)} ${entry.source}[${entry.process}]: ${oneLine(entry.message)}\n`,
      );
    }
  };
  return {
    write,
    line: (source, processName, message, fields) =>
      write({
        micros: nowMicros(),
        source,
        process: processName,
        message,
        ...(fields === undefined ? {} : { fields }),
      }),
  };
}
