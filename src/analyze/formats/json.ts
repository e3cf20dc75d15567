/** `h13 run --log-format json`: one JSON object per line. */

import type { LineFormat } from './format.js';

export const jsonFormat: LineFormat = {
  id: 'json',
  title: '`h13 run --log-format json`',
  example:
    '{"timestamp":"2026-03-02T10:15:05.010002+00:00","source":"heroku","process":"router","message":"at=error code=H13 ..."}',
  notes: 'The fields `timestamp`, `source`, `process` and `message` are read; others are ignored.',
  sniff: (line) => line.charCodeAt(0) === 123 /* { */,
  parse(line, ctx, out, emit) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return 0;
    }
    if (typeof value !== 'object' || value === null) return 0;
    const { timestamp, source, process: proc, message } = value as Record<string, unknown>;
    if (
      typeof timestamp !== 'string' ||
      typeof source !== 'string' ||
      typeof proc !== 'string' ||
      typeof message !== 'string'
    ) {
      return 0;
    }
    const micros = ctx.ts.read(timestamp, 0, timestamp.length);
    if (Number.isNaN(micros)) return 0;
    out.format = 'json';
    out.micros = micros;
    out.source = source;
    out.process = proc;
    out.message = message;
    emit(out);
    return 1;
  },
};
