/**
 * logfmt writing and reading, for every line h13 prints and reads.
 *
 * The writer's one promise: no value can end a line or start a field. Anything outside
 * printable ASCII-without-space/quote/equals is quoted, and inside quotes `\`, `"`, CR, LF,
 * TAB and every other control character (C0, DEL, C1, U+2028/2029) are escaped, so a request
 * path like `/a"b\r\nat=info` stays one value on one line.
 *
 * Values: `undefined` leaves the field out; `null` and `''` write `key=` (Heroku writes empty
 * numeric fields that way, e.g. `bytes=`); a field compiled with `quote: 'always'` writes `key=""`.
 */

export type LogfmtValue = string | number | boolean | null | undefined;

/** Printable ASCII except space (0x20), `"` (0x22) and `=` (0x3d): safe to write bare. */
const BARE = /^[!#-<>-~]+$/;
const NEEDS_ESCAPE = /[\\"\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

function escapeChar(ch: string): string {
  switch (ch) {
    case '\\':
      return '\\\\';
    case '"':
      return '\\"';
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default:
      return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
  }
}

/** Quote and escape, whatever the value holds. */
export function quoteValue(value: string): string {
  return `"${value.replace(NEEDS_ESCAPE, escapeChar)}"`;
}

/** A value as logfmt writes it: bare when safe, otherwise quoted and escaped. */
export function formatValue(value: LogfmtValue): string {
  if (value === null || value === undefined || value === '') return '';
  if (typeof value === 'number')
    return Number.isFinite(value) ? String(value) : quoteValue(String(value));
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  // JavaScript callers can pass anything (objects, symbols, bigints) in step fields: a log
  // line must never throw inside the app's handler.
  if (typeof value !== 'string') return quoteValue(stringify(value));
  return BARE.test(value) ? value : quoteValue(value);
}

function stringify(value: unknown): string {
  if (typeof value === 'symbol') return value.toString();
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value) ?? String(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}

const KEY_UNSAFE = /[^A-Za-z0-9_.\-/]/g;

/** Keys from user data (step fields) cannot carry spaces, quotes or `=`. */
export function safeKey(key: string): string {
  const cleaned = key.replace(KEY_UNSAFE, '_');
  return cleaned === '' ? '_' : cleaned;
}

export interface FieldSpec {
  readonly key: string;
  /** 'always' writes the value quoted even when bare would do (`path="/"`, `desc="..."`). */
  readonly quote?: 'always' | 'auto';
}

export type LineWriter = (values: readonly LogfmtValue[]) => string;

/**
 * Compile a fixed field order once; the returned writer takes values in that order.
 * Keys are checked here, so the hot path only formats values.
 */
export function compileLine(fields: readonly FieldSpec[]): LineWriter {
  for (const f of fields) {
    if (safeKey(f.key) !== f.key)
      throw new TypeError(`logfmt key ${JSON.stringify(f.key)} is not safe`);
  }
  const leading = fields.map((f) => `${f.key}=`);
  const prefixes = fields.map((f) => ` ${f.key}=`);
  const always = fields.map((f) => f.quote === 'always');
  const count = fields.length;
  // A one-entry memo per field: consecutive lines mostly repeat a field's value (the router's
  // level, method, host, dyno, protocol), and a string compares faster than it is checked.
  // Primitives only: an object may have changed since it was formatted.
  const lastValue: unknown[] = new Array<unknown>(count).fill(undefined);
  const lastText: string[] = new Array<string>(count).fill('');
  return (values) => {
    let out = '';
    for (let i = 0; i < count; i++) {
      const v = values[i];
      if (v === undefined) continue;
      let text: string;
      if (v === lastValue[i]) text = lastText[i] as string;
      else {
        text =
          always[i] && (typeof v === 'string' || v === null) ? quoteValue(v ?? '') : formatValue(v);
        if (typeof v !== 'object' || v === null) {
          lastValue[i] = v;
          lastText[i] = text;
        }
      }
      out += out === '' ? (leading[i] as string) : (prefixes[i] as string);
      out += text;
    }
    return out;
  };
}

/** Ad-hoc lines: fields in insertion order, keys made safe. */
export function formatFields(fields: Readonly<Record<string, LogfmtValue>>): string {
  let out = '';
  for (const key of Object.keys(fields)) {
    const v = fields[key];
    if (v === undefined) continue;
    out += (out === '' ? '' : ' ') + safeKey(key) + '=' + formatValue(v);
  }
  return out;
}

const UNESCAPE: Readonly<Record<string, string>> = {
  n: '\n',
  r: '\r',
  t: '\t',
  '"': '"',
  '\\': '\\',
};

/**
 * Read a logfmt line into ordered pairs. Lenient: a bare word is a key with value `true`,
 * an unterminated quote runs to the end of the line, unknown escapes are kept as written.
 * A leading `sock=client ` is just another pair.
 */
export function parseLogfmt(line: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const n = line.length;
  let i = 0;
  while (i < n) {
    while (i < n && line.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    const keyStart = i;
    while (i < n) {
      const c = line.charCodeAt(i);
      if (c === 32 || c === 61) break;
      i++;
    }
    const key = line.slice(keyStart, i);
    if (i >= n || line.charCodeAt(i) !== 61) {
      if (key !== '') pairs.push([key, 'true']);
      continue;
    }
    i++; // '='
    if (line.charCodeAt(i) === 34) {
      i++;
      let value = '';
      let chunkStart = i;
      while (i < n) {
        const c = line.charCodeAt(i);
        if (c === 34) break;
        if (c === 92 && i + 1 < n) {
          value += line.slice(chunkStart, i);
          const next = line[i + 1] as string;
          if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(line.slice(i + 2, i + 6))) {
            value += String.fromCharCode(Number.parseInt(line.slice(i + 2, i + 6), 16));
            i += 6;
          } else {
            value += UNESCAPE[next] ?? `\\${next}`;
            i += 2;
          }
          chunkStart = i;
          continue;
        }
        i++;
      }
      value += line.slice(chunkStart, i);
      i++; // closing quote (or past the end)
      pairs.push([key, value]);
    } else {
      const valueStart = i;
      while (i < n && line.charCodeAt(i) !== 32) i++;
      pairs.push([key, line.slice(valueStart, i)]);
    }
  }
  return pairs;
}
