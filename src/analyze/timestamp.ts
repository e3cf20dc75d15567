/**
 * RFC 3339 timestamps to epoch microseconds, read in place from a larger string. Log lines
 * share their date-and-second prefix with their neighbours, so the prefix is parsed once
 * and compared (startsWith) afterwards; only the fraction and the offset are read per line.
 */

const D0 = 48;

function digits(text: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = text.charCodeAt(i) - D0;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

export interface TimestampReader {
  /** `text[start, end)` is `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM|±HHMM)`; NaN when it is not. */
  read(text: string, start: number, end: number): number;
}

export function createTimestampReader(): TimestampReader {
  let prefix = '';
  let prefixSeconds = 0;
  return {
    read(text, start, end) {
      if (end - start < 20) return Number.NaN;
      let seconds: number;
      if (prefix !== '' && text.startsWith(prefix, start)) {
        seconds = prefixSeconds;
      } else {
        const s = secondsOf(text, start);
        if (Number.isNaN(s)) return Number.NaN;
        prefix = text.slice(start, start + 19);
        prefixSeconds = s;
        seconds = s;
      }
      let i = start + 19;
      let micros = 0;
      if (text.charCodeAt(i) === 46 /* . */) {
        i++;
        let place = 100_000;
        const fracStart = i;
        while (i < end) {
          const d = text.charCodeAt(i) - D0;
          if (d < 0 || d > 9) break;
          micros += d * place;
          place = Math.floor(place / 10);
          i++;
        }
        if (i === fracStart) return Number.NaN;
      }
      const c = text.charCodeAt(i);
      if (c === 90 /* Z */ || c === 122 /* z */) {
        return i + 1 === end ? seconds * 1_000_000 + micros : Number.NaN;
      }
      if (c !== 43 && c !== 45) return Number.NaN;
      const hh = digits(text, i + 1, 2);
      const colon = text.charCodeAt(i + 3) === 58 ? 1 : 0;
      const mm = digits(text, i + 3 + colon, 2);
      if (hh < 0 || mm < 0 || i + 5 + colon !== end) return Number.NaN;
      const offset = (hh * 3600 + mm * 60) * (c === 43 ? 1 : -1);
      return (seconds - offset) * 1_000_000 + micros;
    },
  };
}

/** The fields of a wall time are in range (a leap second allowed); shared by both readers. */
export function validWallTime(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
): boolean {
  return (
    y >= 0 &&
    mo >= 1 &&
    mo <= 12 &&
    d >= 1 &&
    d <= 31 &&
    h >= 0 &&
    h <= 23 &&
    mi >= 0 &&
    mi <= 59 &&
    s >= 0 &&
    s <= 60
  );
}

/** `YYYY-MM-DDTHH:MM:SS` (T or space) at `start`, as epoch seconds of that wall time in UTC. */
export function secondsOf(text: string, start: number): number {
  const y = digits(text, start, 4);
  const mo = digits(text, start + 5, 2);
  const d = digits(text, start + 8, 2);
  const h = digits(text, start + 11, 2);
  const mi = digits(text, start + 14, 2);
  const s = digits(text, start + 17, 2);
  const sep = text.charCodeAt(start + 10);
  if (
    !validWallTime(y, mo, d, h, mi, s) ||
    text.charCodeAt(start + 4) !== 45 ||
    text.charCodeAt(start + 7) !== 45 ||
    (sep !== 84 && sep !== 32 && sep !== 116) ||
    text.charCodeAt(start + 13) !== 58 ||
    text.charCodeAt(start + 16) !== 58
  ) {
    return Number.NaN;
  }
  return Date.UTC(y, mo - 1, d, h, mi, s) / 1000;
}

const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec';

/**
 * Papertrail's `Mar  2 10:15:04` has no year. `fromLog`: `referenceMs` is a time read from the
 * log itself, and the year that puts the line nearest to it is taken (a log that runs over
 * New Year stays in order). Otherwise `referenceMs` is the clock: its year, or the year
 * before when that would put the line more than a day in the future.
 */
export function syslogMicros(
  month: string,
  day: number,
  time: string,
  referenceMs: number,
  fromLog = false,
): number {
  const mo = MONTHS.indexOf(month) / 3;
  if (!Number.isInteger(mo) || mo < 0) return Number.NaN;
  const h = digits(time, 0, 2);
  const mi = digits(time, 3, 2);
  const s = digits(time, 6, 2);
  if (h < 0 || mi < 0 || s < 0) return Number.NaN;
  const year = new Date(referenceMs).getUTCFullYear();
  let ms = Date.UTC(year, mo, day, h, mi, s);
  if (fromLog) {
    for (const y of [year - 1, year + 1]) {
      const other = Date.UTC(y, mo, day, h, mi, s);
      if (Math.abs(other - referenceMs) < Math.abs(ms - referenceMs)) ms = other;
    }
  } else if (ms > referenceMs + 86_400_000) ms = Date.UTC(year - 1, mo, day, h, mi, s);
  return ms * 1000;
}
