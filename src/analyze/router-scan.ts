/**
 * A router message read in one pass over the string: no Map, no pair arrays (the shared
 * parseRouterMessage builds both, which is fine for one line and slow for millions).
 * Same leniency and the same result as parseRouterMessage on every line it accepts, plus
 * the pre-2012 format `Error H12 (Request timeout) -> GET host/path dyno=web.1 ...`.
 */

import { isRouterCodeName, type RouterCodeName, type RouterLevel } from '../core/codes.js';
import type { RouterRecord } from '../core/router-line.js';

type Mutable = { -readonly [K in keyof RouterRecord]: RouterRecord[K] };

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

function int(v: string | undefined): number | null {
  if (v === undefined || v === '') return null;
  const n = Number.parseInt(v, 10);
  return Number.isNaN(n) ? null : n;
}

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

/** Assign one pair; a repeated key keeps its last value, as `new Map(pairs)` does. */
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

/** Walk `key=value` pairs from `from`; returns whether `at` and `method` were seen. */
function scanPairs(m: string, from: number, r: Mutable): { at: boolean; method: boolean } {
  const n = m.length;
  let i = from;
  let sawAt = false;
  let sawMethod = false;
  while (i < n) {
    while (i < n && m.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    const keyStart = i;
    while (i < n) {
      const c = m.charCodeAt(i);
      if (c === 32 || c === 61) break;
      i++;
    }
    if (i >= n || m.charCodeAt(i) !== 61) continue; // a bare word: parseLogfmt's `key=true`
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
      const raw = m.slice(start, Math.min(i, n));
      value = escaped ? unescapeQuoted(raw) : raw;
      i++;
    } else {
      const start = i;
      while (i < n && m.charCodeAt(i) !== 32) i++;
      value = m.slice(start, i);
    }
    if (key === 'at') sawAt = true;
    else if (key === 'method') sawMethod = true;
    assign(r, key, value);
  }
  return { at: sawAt, method: sawMethod };
}

const OLD_FORMAT = /^Error (H\d\d) \(([^)]*)\) -> ([A-Z]+) (\S*) ?(.*)$/s;
const OLD_INFO = /^([A-Z]+) ([^\s/]+)(\/\S*) (dyno=.*)$/s;

/** Read a router message; null when it is not one. */
export function scanRouterMessage(m: string): RouterRecord | null {
  const r = blank();
  const seen = scanPairs(m, 0, r);
  if (seen.at && seen.method) {
    if (r.at === 'info' || r.at === 'warning' || r.at === 'error') return r;
    return null;
  }
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
