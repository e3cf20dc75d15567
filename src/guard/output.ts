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
          ? (line: string) => process.stdout.write(`${line}\n`)
          : (line: string) => process.stderr.write(`${line}\n`);
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

function withoutUndefined(fields: Fields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(fields)) if (fields[key] !== undefined) out[key] = fields[key];
  return out;
}
