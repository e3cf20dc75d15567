import { H13Error } from './errors.js';

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;

/**
 * `30s`, `500ms`, `1.5m`, or a bare number of milliseconds. Timers that are 30 s in production
 * are options everywhere, so tests can run them in milliseconds.
 */
export function parseDuration(text: string, field: string): number {
  const m = DURATION.exec(text.trim());
  if (m === null) {
    throw new H13Error(
      'H13_ERR_INVALID_OPTION',
      `${field}: ${JSON.stringify(text)} is not a duration (examples: 500ms, 30s, 2m)`,
      { field },
    );
  }
  return Math.round(Number(m[1]) * (UNITS[m[2] ?? 'ms'] ?? 1));
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms >= 3_600_000) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms >= 1000) return `${ms / 1000}s`;
  return `${ms}ms`;
}
