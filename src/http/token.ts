/**
 * Character classes of HTTP/1.1 heads (RFC 9110 §5.6), checked on a range of a string the
 * parsers already hold, so a header name is judged before (and without) a copy of it. Both
 * head parsers run these for every header of every request and response the router relays.
 */

/** tchar: `!#$%&'*+-.^_`|~`, digits, letters. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TCHAR[c.charCodeAt(0)] = 1;

/** Whether `text[start, end)` is a token: one or more tchar. */
export function isTokenRange(text: string, start: number, end: number): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c > 127 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** SP or HTAB: the only optional whitespace of RFC 9110 §5.6.3. */
function isOws(code: number): boolean {
  return code === 32 || code === 9;
}

/**
 * Whether `text` is `lower` (an all-lowercase constant) in any ASCII case, without the copy
 * (and, for a Set lookup, the string hash) a toLowerCase() costs on every relayed header.
 */
export function sameLower(text: string, lower: string): boolean {
  const n = lower.length;
  if (text.length !== n) return false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * `text[start, end)` without leading and trailing SP/HTAB, as one slice. (String.prototype.trim
 * also strips VT, FF and NBSP, which would let `chunked\x0b` pass as `chunked`.)
 */
export function owsSlice(text: string, start: number, end: number): string {
  let from = start;
  let to = end;
  while (from < to && isOws(text.charCodeAt(from))) from++;
  while (to > from && isOws(text.charCodeAt(to - 1))) to--;
  return text.slice(from, to);
}

/**
 * A run of 1–15 ASCII digits as a number, or -1. Content-Length is read this way on both
 * sides: no sign, no exponent, no whitespace, nothing Number() would also accept.
 */
export function digitsValue(text: string): number {
  const n = text.length;
  if (n === 0 || n > 15) return -1;
  let value = 0;
  for (let i = 0; i < n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/**
 * Whether `text` has a byte a field value may not carry: a control character other than HTAB
 * (NUL, CR, LF, ...) or DEL. VCHAR, obs-text, SP and HTAB are allowed (RFC 9110 §5.5).
 */
export function hasBadValueByte(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return true;
  }
  return false;
}

/** Whether a request target has a byte it may not carry: a control character, SP or DEL. */
export function hasBadTargetByte(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 32 || c === 127) return true;
  }
  return false;
}

/**
 * Whether `text` is a comma-separated list of tokens (RFC 9110 §5.6.1): the first element a
 * token, later ones a token or empty, each with optional SP/HTAB around it. Walked element by
 * element: the regular expression for this, `^\s*tchar+\s*(,\s*tchar*\s*)*$`, backtracks
 * exponentially on a run of empty elements that fails at its end (a 100-byte Connection
 * header held the event loop for seconds).
 */
export function isTokenList(text: string): boolean {
  let start = 0;
  for (let first = true; ; first = false) {
    const comma = text.indexOf(',', start);
    let from = start;
    let to = comma < 0 ? text.length : comma;
    while (from < to && isOws(text.charCodeAt(from))) from++;
    while (to > from && isOws(text.charCodeAt(to - 1))) to--;
    if (from === to ? first : !isTokenRange(text, from, to)) return false;
    if (comma < 0) return true;
    start = comma + 1;
  }
}
