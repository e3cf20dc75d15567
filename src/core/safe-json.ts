/**
 * JSON for output that reaches a terminal, a log or a page: JSON.stringify leaves C1 controls
 * (U+0080-U+009F; `\x9b` is a terminal's CSI) and U+2028/U+2029 (line breaks to JavaScript)
 * raw, so request or log bytes could steer a terminal or break a script. They are escaped
 * here; the result is still the same JSON value.
 */
export function safeJson(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, null, indent);
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, unicodeEscape) : text;
}

const UNSAFE = /[\u007f-\u009f\u2028\u2029]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');
const unicodeEscape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
