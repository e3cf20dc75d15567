/**
 * Every code Heroku's router logs, as h13 writes and reads them.
 *
 * This table is the single source of truth: the router emulation, the guard's lines, the
 * analyzer's reader and docs/codes.md (checked by test/core/codes-doc.test.ts) all come from it.
 * Source: shared/spec/heroku-router.md §1. Choices made where sources are unsure:
 * - H25 logs one of four descs, each `HTTP restriction: <what>`; the analyzer accepts any
 *   desc starting with `HTTP restriction`.
 * - H24's status is empty (`status=`), as the spec's table shows.
 * - H28 carries no `sock=` prefix (only H18 and H27 do in the spec's samples).
 */

export type RouterLevel = 'info' | 'warning' | 'error';
export type SockPrefix = 'client' | 'backend';

export interface RouterCode {
  readonly code: string;
  /** The desc exactly as logged; for H25 the first of `variants`. */
  readonly desc: string;
  readonly level: RouterLevel;
  /** What the client receives and the line logs; null is logged as an empty `status=`. */
  readonly status: number | null;
  readonly sock: SockPrefix | null;
  /** Every desc this code may be logged with (H25 has four). */
  readonly variants: readonly string[];
  /** Values of the `cause="..."` field this code may carry (H26). */
  readonly causes: readonly string[];
  /** One sentence: what makes the router log it. */
  readonly trigger: string;
}

const row = (
  code: string,
  desc: string,
  level: RouterLevel,
  status: number | null,
  trigger: string,
  extra: { sock?: SockPrefix; variants?: readonly string[]; causes?: readonly string[] } = {},
): RouterCode => ({
  code,
  desc,
  level,
  status,
  sock: extra.sock ?? null,
  variants: extra.variants ?? [desc],
  causes: extra.causes ?? [],
  trigger,
});

export const H25_DESCS = {
  contentLength: 'HTTP restriction: invalid content length',
  cookie: 'HTTP restriction: oversized cookie',
  header: 'HTTP restriction: oversized header',
  statusLine: 'HTTP restriction: oversized status line',
} as const;

export const H26_CAUSES = {
  expect: 'unsupported expect header value',
  badHeader: 'bad header',
  badChunk: 'bad chunk',
} as const;

export const ROUTER_CODES = {
  H10: row('H10', 'App crashed', 'error', 503, 'the web process is crashed or failed to boot'),
  H11: row(
    'H11',
    'Backlog too deep',
    'error',
    503,
    'requests waiting for the app exceed the queue',
  ),
  H12: row(
    'H12',
    'Request timeout',
    'error',
    503,
    'no response byte within 30 s of the whole request being written to the dyno',
  ),
  H13: row(
    'H13',
    'Connection closed without response',
    'error',
    503,
    'the dyno accepted the connection, then closed or reset it having written zero response bytes',
  ),
  H14: row('H14', 'No web processes running', 'error', 503, 'no web process is defined or scaled'),
  H15: row(
    'H15',
    'Idle connection',
    'error',
    503,
    'after the first response byte (or a 101 upgrade), 55 s with no bytes in either direction',
  ),
  H17: row(
    'H17',
    'Poorly formatted HTTP response',
    'error',
    503,
    'the response head is not valid HTTP/1.x, or a chunked body is invalid before the head was relayed',
  ),
  H18: row(
    'H18',
    'Server Request Interrupted',
    'error',
    503,
    'the dyno closed the connection after writing part of a response',
    { sock: 'backend' },
  ),
  H19: row(
    'H19',
    'Backend connection timeout',
    'error',
    503,
    'the TCP connect to the dyno took over 5 s (after trying the other dynos)',
  ),
  H20: row('H20', 'App boot timeout', 'error', 503, 'the request waited 75 s for a starting dyno'),
  H21: row(
    'H21',
    'Backend connection refused',
    'error',
    503,
    'the dyno refused the connection (after trying the other dynos)',
  ),
  H22: row('H22', 'Connection limit reached', 'error', 503, 'too many client connections'),
  H24: row(
    'H24',
    'Forced close',
    'error',
    null,
    'the router shut down while the request was in flight',
  ),
  H25: row(
    'H25',
    H25_DESCS.contentLength,
    'error',
    502,
    'the response has an invalid Content-Length, a Set-Cookie over 8192 bytes, a header line over 512 KiB or a status line over 8192 bytes',
    { variants: Object.values(H25_DESCS) },
  ),
  H26: row(
    'H26',
    'Request Error',
    'error',
    400,
    'an unsupported Expect value (417), an unparseable Connection/Expect/Upgrade header or a bad request chunk (400)',
    { causes: Object.values(H26_CAUSES) },
  ),
  H27: row(
    'H27',
    'Client Request Interrupted',
    'warning',
    499,
    'the client closed its connection before the response was complete',
    { sock: 'client' },
  ),
  H28: row(
    'H28',
    'Client Connection Idle',
    'warning',
    499,
    'the client stopped sending the request for 55 s',
  ),
  H80: row('H80', 'Maintenance mode', 'info', 503, 'the app is in maintenance mode'),
  H81: row('H81', 'Blank app', 'info', 503, 'nothing was ever deployed'),
  H82: row('H82', 'Free dyno quota exhausted', 'info', 503, "the account's dyno hours are used up"),
  H99: row('H99', 'Platform error', 'error', 503, 'an internal router failure'),
} as const satisfies Record<string, RouterCode>;

export type RouterCodeName = keyof typeof ROUTER_CODES;

export const ROUTER_CODE_NAMES = Object.keys(ROUTER_CODES) as RouterCodeName[];

export function isRouterCodeName(value: string): value is RouterCodeName {
  return Object.hasOwn(ROUTER_CODES, value);
}

/** H26's status depends on its cause: an unsupported Expect is 417, anything else 400. */
export function statusFor(code: RouterCodeName, cause?: string): number | null {
  if (code === 'H26' && cause === H26_CAUSES.expect) return 417;
  return ROUTER_CODES[code].status;
}
