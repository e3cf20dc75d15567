import { H13Error } from './errors.js';

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/**
 * `30s`, `500ms`, `1.5m`, `2h`, or `0`. A bare number is refused: `--grace 5` meant as
 * seconds and read as milliseconds killed apps at once, and `--timeout 5` gave fake H12s, so
 * the unit is always written. Timers that are 30 s in production are options everywhere, so
 * tests can run them in milliseconds.
 */
export function parseDuration(text: string, field: string): number {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const m = DURATION.exec(trimmed);
  if (m === null) {
    const bare = /^\d+(?:\.\d+)?$/.test(trimmed);
    throw new H13Error(
      'H13_ERR_INVALID_OPTION',
      bare
        ? `${field}: ${JSON.stringify(text)} has no unit; write ${trimmed}s for seconds or ${trimmed}ms for milliseconds (units: ms, s, m, h)`
        : `${field}: ${JSON.stringify(text)} is not a duration (examples: 500ms, 30s, 2m)`,
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
