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
import { compileLine, parseLogfmt } from './logfmt.js';

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

/**
 * `12`, `12ms` → 12; anything else (`1e400ms`, `-5`, `abc`) → null rather than a wrong number:
 * a percentile built on `parseInt('1e400')` would report 1 ms.
 */
const INT = /^(\d{1,15})(?:ms)?$/;
const int = (v: string | undefined): number | null => {
  if (v === undefined) return null;
  const m = INT.exec(v);
  return m === null ? null : Number(m[1]);
};

/**
 * Read a router message; null when it is not one (no `at=` or no `method=`).
 * Accepts old lines (no `protocol=`, no `request_id=`, unquoted paths) and Router 2.0's.
 */
export function parseRouterMessage(message: string): RouterRecord | null {
  const fields = new Map(parseLogfmt(message));
  const at = fields.get('at');
  if ((at !== 'info' && at !== 'warning' && at !== 'error') || !fields.has('method')) return null;
  const codeText = fields.get('code');
  const code = codeText !== undefined && isRouterCodeName(codeText) ? codeText : null;
  const sock = fields.get('sock');
  const tls = fields.get('tls');
  return {
    at,
    code,
    desc: fields.get('desc') ?? null,
    cause: fields.get('cause') ?? null,
    sock: sock === 'client' || sock === 'backend' ? sock : null,
    method: fields.get('method') ?? '',
    path: fields.get('path') ?? '',
    host: fields.get('host') ?? '',
    requestId: fields.get('request_id') || null,
    fwd: fields.get('fwd') ?? '',
    dyno: fields.get('dyno') || null,
    connectMs: int(fields.get('connect')),
    serviceMs: int(fields.get('service')),
    status: int(fields.get('status')),
    bytes: int(fields.get('bytes')),
    protocol: fields.get('protocol') || null,
    tls: tls === undefined ? null : tls === 'true',
  };
}
