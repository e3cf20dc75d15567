/**
 * Where guard lines go. Every line is logfmt built by src/core/logfmt.ts (request bytes and
 * paths cannot forge a line or a field), or, with a logger, the same fields as an object and
 * the desc as the message (pino's `logger.error(obj, msg)`).
 */

import { formatFields, type LogfmtValue } from '../core/logfmt.js';
import type { GuardLog } from './options.js';

export type Level = 'info' | 'warning' | 'error';

export type Fields = Record<string, LogfmtValue>;

export interface Output {
  /** `fields` must not contain `at`; the level is written first. */
  line(level: Level, fields: Fields, message: string): void;
  /** A line already formatted (the precompiled hot lines); only used with text outputs. */
  text(level: Level, line: string, fields: () => Fields, message: string): void;
}

export function createOutput(log: GuardLog): Output {
  if (log === 'stderr' || log === 'stdout' || typeof log === 'function') {
    // stderr/stdout writes are synchronous for files, pipes and TTYs on Linux, so a line
    // written just before process.exit() is not lost.
    const write =
      typeof log === 'function'
        ? log
        : log === 'stdout'
          ? (line: string) => writeTo(process.stdout, line)
          : (line: string) => writeTo(process.stderr, line);
    return {
      line(level, fields) {
        write(`at=${level} ${formatFields(fields)}`);
      },
      text(_level, line) {
        write(line);
      },
    };
  }
  const logger = log;
  const call = (level: Level, obj: Record<string, unknown>, message: string) => {
    if (level === 'error') logger.error(obj, message);
    else if (level === 'warning') logger.warn(obj, message);
    else logger.info(obj, message);
  };
  return {
    line(level, fields, message) {
      call(level, withoutUndefined(fields), message);
    },
    text(level, _line, fields, message) {
      call(level, withoutUndefined(fields()), message);
    },
  };
}

/**
 * A stream that failed (EPIPE: the reader is gone) is not written again. Its error reaches the
 * crash handler, whose own line would fail the same way, and so on forever: process.stderr
 * cannot be destroyed, so the failure is remembered here (the write callback runs before the
 * error is emitted).
 */
const broken = new WeakSet<NodeJS.WriteStream>();

function writeTo(stream: NodeJS.WriteStream, line: string): void {
  if (broken.has(stream)) return;
  stream.write(`${line}\n`, (err) => {
    if (err) broken.add(stream);
  });
}

function withoutUndefined(fields: Fields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(fields)) if (fields[key] !== undefined) out[key] = fields[key];
  return out;
}
