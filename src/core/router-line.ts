/**
 * The router's message (what follows `heroku[router]: `), written and read.
 *
 * Field order follows shared/spec/heroku-router.md §4:
 *   [sock=client |sock=backend ]at=LEVEL [code=HNN desc="DESC" [cause="CAUSE" ]]method=...
 *   path="..." host=... request_id=... fwd="..." dyno=... connect=Nms service=Nms status=N
 *   bytes=N protocol=...[ tls=false]
 * `path`, `desc`, `cause` and `fwd` are always quoted; empty numeric fields are `key=`.
 */

import {
  isRouterCodeName,
  ROUTER_CODES,
  type RouterCodeName,
  type RouterLevel,
  type SockPrefix,
} from './codes.js';
import { compileLine } from './logfmt.js';

/** `legacy` logs `protocol=http|https`; Router 2.0 logs `protocol=http1.1 tls=false`. */
export type RouterFlavor = 'legacy' | '2';

export interface RouterRecord {
  readonly at: RouterLevel;
  readonly code: RouterCodeName | null;
  readonly desc: string | null;
  readonly cause: string | null;
  readonly sock: SockPrefix | null;
  readonly method: string;
  readonly path: string;
  readonly host: string;
  /** null on lines from before request ids (2013). */
  readonly requestId: string | null;
  readonly fwd: string;
  readonly dyno: string | null;
  readonly connectMs: number | null;
  readonly serviceMs: number | null;
  readonly status: number | null;
  readonly bytes: number | null;
  /** `http`, `https`, `http1.1`, `http2.0`; null on lines from before 2017. */
  readonly protocol: string | null;
  /** Router 2.0 only. */
  readonly tls: boolean | null;
  /**
   * Set (by parseRouterMessage) when the line ends mid-field: an unclosed quote, or an error
   * line without its last fields. What was read is kept; the rest is unknown.
   */
  readonly cut?: true;
}

const writeLine = compileLine([
  { key: 'sock' },
  { key: 'at' },
  { key: 'code' },
  { key: 'desc', quote: 'always' },
  { key: 'cause', quote: 'always' },
  { key: 'method' },
  { key: 'path', quote: 'always' },
  { key: 'host' },
  { key: 'request_id' },
  { key: 'fwd', quote: 'always' },
  { key: 'dyno' },
  { key: 'connect' },
  { key: 'service' },
  { key: 'status' },
  { key: 'bytes' },
  { key: 'protocol' },
  { key: 'tls' },
]);

const ms = (v: number | null): string | null =>
  v === null ? null : `${Math.max(0, Math.round(v))}ms`;

export function formatRouterMessage(r: RouterRecord): string {
  return writeLine([
    r.sock ?? undefined,
    r.at,
    r.code ?? undefined,
    r.code === null ? undefined : (r.desc ?? ROUTER_CODES[r.code].desc),
    r.cause ?? undefined,
    r.method,
    r.path,
    r.host,
    r.requestId ?? undefined,
    r.fwd,
    r.dyno,
    ms(r.connectMs),
    ms(r.serviceMs),
    r.status,
    r.bytes,
    r.protocol ?? undefined,
    r.tls === null ? undefined : r.tls,
  ]);
}

const UNESCAPE: Readonly<Record<string, string>> = {
  n: '\n',
  r: '\r',
  t: '\t',
  '"': '"',
  '\\': '\\',
};

function unescapeQuoted(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c !== '\\' || i + 1 >= raw.length) {
      out += c;
      continue;
    }
    const next = raw[i + 1] as string;
    if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(raw.slice(i + 2, i + 6))) {
      out += String.fromCharCode(Number.parseInt(raw.slice(i + 2, i + 6), 16));
      i += 5;
    } else {
      out += UNESCAPE[next] ?? `\\${next}`;
      i += 1;
    }
  }
  return out;
}

/**
 * `12`, `12ms` → 12; anything else (`1e400ms`, `503abc`, `-5`, `abc`, 16+ digits) → null
 * rather than a wrong number: a percentile built on `parseInt('1e400')` would report 1 ms.
 */
function int(v: string): number | null {
  let end = v.length;
  if (end > 2 && v.charCodeAt(end - 1) === 115 /* s */ && v.charCodeAt(end - 2) === 109 /* m */)
    end -= 2;
  if (end === 0 || end > 15) return null;
  let n = 0;
  for (let i = 0; i < end; i++) {
    const d = v.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  return n;
}

type Mutable = { -readonly [K in keyof RouterRecord]: RouterRecord[K] };

function blank(): Mutable {
  return {
    at: 'info',
    code: null,
    desc: null,
    cause: null,
    sock: null,
    method: '',
    path: '',
    host: '',
    requestId: null,
    fwd: '',
    dyno: null,
    connectMs: null,
    serviceMs: null,
    status: null,
    bytes: null,
    protocol: null,
    tls: null,
  };
}

/** Assign one pair; a repeated key keeps its last value. */
function assign(r: Mutable, key: string, value: string): void {
  switch (key) {
    case 'at':
      r.at = value as RouterLevel;
      break;
    case 'code':
      r.code = isRouterCodeName(value) ? value : null;
      break;
    case 'desc':
      r.desc = value;
      break;
    case 'cause':
      r.cause = value;
      break;
    case 'sock':
      r.sock = value === 'client' || value === 'backend' ? value : null;
      break;
    case 'method':
      r.method = value;
      break;
    case 'path':
      r.path = value;
      break;
    case 'host':
      r.host = value;
      break;
    case 'request_id':
      r.requestId = value === '' ? null : value;
      break;
    case 'fwd':
      r.fwd = value;
      break;
    case 'dyno':
      r.dyno = value === '' ? null : value;
      break;
    case 'connect':
      r.connectMs = int(value);
      break;
    case 'service':
      r.serviceMs = int(value);
      break;
    case 'status':
      r.status = int(value);
      break;
    case 'bytes':
      r.bytes = int(value);
      break;
    case 'protocol':
      r.protocol = value === '' ? null : value;
      break;
    case 'tls':
      r.tls = value === 'true';
      break;
  }
}

/** What scanPairs saw besides the fields it assigned. */
const SEEN_AT = 1;
const SEEN_METHOD = 2;
const SEEN_END = 4;
/** A quoted value with no closing quote: the line was cut inside it. */
const SEEN_OPEN_QUOTE = 8;

/**
 * Walk `key=value` pairs from `from` in one pass over the string (no Map, no pair arrays:
 * this runs on every router error of logs with millions of lines). A bare word is skipped.
 */
function scanPairs(m: string, from: number, r: Mutable): number {
  const n = m.length;
  let i = from;
  let seen = 0;
  while (i < n) {
    while (i < n && m.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    const keyStart = i;
    while (i < n) {
      const c = m.charCodeAt(i);
      if (c === 32 || c === 61) break;
      i++;
    }
    if (i >= n || m.charCodeAt(i) !== 61) continue;
    const key = m.slice(keyStart, i);
    i++;
    let value: string;
    if (m.charCodeAt(i) === 34) {
      i++;
      const start = i;
      let escaped = false;
      while (i < n) {
        const c = m.charCodeAt(i);
        if (c === 34) break;
        if (c === 92 && i + 1 < n) {
          escaped = true;
          i += 2;
          continue;
        }
        i++;
      }
      if (i >= n) seen |= SEEN_OPEN_QUOTE;
      const raw = m.slice(start, Math.min(i, n));
      value = escaped ? unescapeQuoted(raw) : raw;
      i++;
    } else {
      const start = i;
      while (i < n && m.charCodeAt(i) !== 32) i++;
      value = m.slice(start, i);
    }
    if (key === 'at') seen |= SEEN_AT;
    else if (key === 'method') seen |= SEEN_METHOD;
    else if (key === 'bytes' || key === 'status' || key === 'protocol' || key === 'tls')
      seen |= SEEN_END;
    assign(r, key, value);
  }
  return seen;
}

const OLD_FORMAT = /^Error (H\d\d) \(([^)]*)\) -> ([A-Z]+) ?(\S*) ?(.*)$/s;
/** `at=error` and nothing else (but a `sock=`): the first line of a wrapped router line. */
const AT_ALONE = /^\s*(?:sock=\w+ +)?at=\w+\s*$/;
const OLD_INFO = /^([A-Z]+) ([^\s/]+)(\/\S*) (dyno=.*)$/s;

/**
 * Read a router message (what follows `heroku[router]: `); null when it is not one. The one
 * reader of router lines: the analyzer, the router's tests and the public API all use it.
 * Accepts old lines (no `protocol=`, no `request_id=`, unquoted paths), Router 2.0's, the
 * pre-2012 `Error H12 (Request timeout) -> GET host/path dyno=...`, and a line cut short:
 * an error line with its code but without its last fields (a paste cut mid-field, or a line
 * wrapped by the paste) is read as far as it goes and marked `cut`.
 */
export function parseRouterMessage(m: string): RouterRecord | null {
  const r = blank();
  const seen = scanPairs(m, 0, r);
  if ((seen & SEEN_AT) !== 0 && r.at !== 'info' && r.at !== 'warning' && r.at !== 'error')
    return null;
  if ((seen & (SEEN_AT | SEEN_METHOD)) === (SEEN_AT | SEEN_METHOD)) {
    if ((seen & SEEN_OPEN_QUOTE) !== 0 || (r.code !== null && (seen & SEEN_END) === 0))
      return { ...r, cut: true };
    return r;
  }
  // An error line cut before its method (or after `at=error` alone, a paste that wrapped
  // it): still an error the router logged, read as far as it goes.
  if ((seen & SEEN_AT) !== 0 && (r.code !== null || (r.at !== 'info' && AT_ALONE.test(m))))
    return { ...r, cut: true };
  return scanOldFormat(m);
}

/** Router lines from before 2012: the code and desc up front, host and path joined. */
function scanOldFormat(m: string): RouterRecord | null {
  const old = OLD_FORMAT.exec(m);
  if (old !== null) {
    const r = blank();
    const code = old[1] as string;
    r.at = 'error';
    r.code = isRouterCodeName(code) ? (code as RouterCodeName) : null;
    r.desc = old[2] as string;
    r.method = old[3] as string;
    const target = old[4] as string;
    const slash = target.indexOf('/');
    r.host = slash < 0 ? target : target.slice(0, slash);
    r.path = slash < 0 ? '/' : target.slice(slash);
    scanPairs(old[5] as string, 0, r);
    return r;
  }
  const info = OLD_INFO.exec(m);
  if (info !== null) {
    const r = blank();
    r.method = info[1] as string;
    r.host = info[2] as string;
    r.path = info[3] as string;
    scanPairs(info[4] as string, 0, r);
    r.at = 'info';
    return r;
  }
  return null;
}
