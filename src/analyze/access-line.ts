/**
 * An app server's access-log line: which request it was (method, path) and how the app says
 * it ended (status, bytes, duration). Matched to a router error by method and path (and time,
 * when both have one), it is evidence about that very request: an app that logged a 503 for
 * the upload the router saw cut, a morgan line without a status for a request never answered.
 *
 * Forms read (each the usual default of its server; sources in docs/analyze.md):
 *   common/combined log format   `1.2.3.4 - - [29/Mar/2020:19:37:30 +0000] "POST /up HTTP/1.1" 503 299 "-" "ua"`
 *     (Apache/nginx of the PHP buildpack, gunicorn, morgan `combined`/`common`; uvicorn's
 *     `1.2.3.4:5 - "POST /up HTTP/1.1" 503`; a paste that lost the line's head)
 *   morgan dev / tiny / short    `POST /up 503 48.354 ms - 299`, `POST /up 503 299 - 48.354 ms`
 *   Rails                        `Started POST "/up" for 1.2.3.4 at 2020-03-29 19:37:30 +0000`
 *     (the request arriving: no status)
 *   lograge (key=value)          `method=POST path=/up format=json ... status=503 duration=48.35`
 *   pino-http (JSON)             `{"req":{"method":"POST","url":"/up",...},"res":{"statusCode":503},"responseTime":48}`
 */

export interface AccessLine {
  readonly method: string;
  /** The request target as logged, query included. */
  readonly path: string;
  /** null: the app logged the request without a status (no response went out, or not yet). */
  readonly status: number | null;
  readonly bytes: number | null;
  readonly durationMs: number | null;
  /** Epoch microseconds of the line's own time (CLF `[...]`, Rails `at ...`), else NaN. */
  readonly micros: number;
  /** Rails' `Started`: the request arriving, not its end. */
  readonly started: boolean;
}

const METHODS = 'GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS';

/** `"METHOD target HTTP/x.y" STATUS [BYTES]` (STATUS `-`: none), optionally after `[time]`. */
const REQUEST_LINE = new RegExp(
  `"(${METHODS}) (\\S{1,4096}) HTTP/\\d(?:\\.\\d)?" (\\d{3}|-)(?: (\\d{1,12}|-))?`,
);
const CLF_TIME = /\[(\d\d)\/([A-Z][a-z]{2})\/(\d{4}):(\d\d:\d\d:\d\d) ([+-])(\d\d)(\d\d)\]/;
/** morgan dev/tiny/short: `[ip - ]METHOD /path [HTTP/1.1 ]STATUS (MS ms - BYTES | BYTES - MS ms)`. */
const MORGAN = new RegExp(
  `^(?:\\S+ - (?:\\S+ )?)?(${METHODS}) (/\\S{0,4096}) (?:HTTP/\\d(?:\\.\\d)? )?(\\d{3}|-) (?:(\\d+(?:\\.\\d+)?|-) ms - (\\d+|-)|(\\d+|-) - (\\d+(?:\\.\\d+)?|-) ms)`,
);
const RAILS_STARTED = new RegExp(
  `^(?:\\[[^\\]]{1,80}\\] )*Started (${METHODS}) "([^"]{1,4096})" for \\S+ at (\\d{4}-\\d\\d-\\d\\d) (\\d\\d:\\d\\d:\\d\\d) ([+-]\\d\\d)(\\d\\d)`,
);
const LOGRAGE = new RegExp(
  `(?:^|\\s)method=(${METHODS}) path=(\\S{1,4096}) .{0,400}?\\bstatus=(\\d{3})(?:.{0,200}?\\bduration=(\\d+(?:\\.\\d+)?))?`,
);
const PINO_REQ = new RegExp(`"method":"(${METHODS})","url":"([^"]{1,4096})"`);
const PINO_STATUS = /"statusCode":(\d{3})/;
const PINO_TIME = /"responseTime":(\d+(?:\.\d+)?)/;

const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec';

const num = (s: string | undefined): number | null =>
  s === undefined || s === '-' ? null : Number(s);

function clfMicros(message: string): number {
  const m = CLF_TIME.exec(message);
  if (m === null) return Number.NaN;
  const month = MONTHS.indexOf(m[2] as string) / 3;
  if (!Number.isInteger(month)) return Number.NaN;
  const iso = `${m[3]}-${String(month + 1).padStart(2, '0')}-${m[1]}T${m[4]}${m[5]}${m[6]}:${m[7]}`;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? Number.NaN : ms * 1000;
}

/**
 * Whether `raw` from `offset` may hold an access line for a path that starts with `/` (the
 * only ones a router error is matched with): in every form that path follows a space, a
 * quote or `path=`. Without slicing the message out; most app lines end at the first search
 * (no `/` at all), and it runs once per line that meets a waiting error.
 */
export function mayBeAccessAt(raw: string, offset: number): boolean {
  for (let j = raw.indexOf('/', offset); j > offset; j = raw.indexOf('/', j + 1)) {
    const c = raw.charCodeAt(j - 1);
    if (c === 32 || c === 34 || c === 61) return true;
  }
  return false;
}

/**
 * A cheap test before the patterns: every form has a method followed by a space and a path
 * (`POST /`, `"/`); most app lines have neither.
 */
function mayBeAccess(message: string): boolean {
  return (
    message.includes(' /') ||
    message.includes('"/') ||
    message.includes('path=/') ||
    message.includes('"url":"')
  );
}

/** The access-log line in `message` (an app line's message, or a pasted line alone), or null. */
export function parseAccessLine(message: string): AccessLine | null {
  if (message.length > 8192 || !mayBeAccess(message)) return null;
  // Each pattern behind the word it cannot match without: one search instead of a regex scan.
  const r = message.includes(' HTTP/') ? REQUEST_LINE.exec(message) : null;
  if (r !== null) {
    return {
      method: r[1] as string,
      path: r[2] as string,
      status: num(r[3]),
      bytes: num(r[4]),
      durationMs: null,
      micros: clfMicros(message),
      started: false,
    };
  }
  const trimmed = message.trimStart();
  const m = MORGAN.exec(trimmed);
  if (m !== null) {
    return {
      method: m[1] as string,
      path: m[2] as string,
      status: num(m[3]),
      bytes: num(m[5] ?? m[6]),
      durationMs: num(m[4] ?? m[7]),
      micros: Number.NaN,
      started: false,
    };
  }
  const rails = trimmed.includes('Started ') ? RAILS_STARTED.exec(trimmed) : null;
  if (rails !== null) {
    const ms = Date.parse(`${rails[3]}T${rails[4]}${rails[5]}:${rails[6]}`);
    return {
      method: rails[1] as string,
      path: rails[2] as string,
      status: null,
      bytes: null,
      durationMs: null,
      micros: Number.isNaN(ms) ? Number.NaN : ms * 1000,
      started: true,
    };
  }
  const lograge = message.includes('method=') ? LOGRAGE.exec(message) : null;
  if (lograge !== null) {
    return {
      method: lograge[1] as string,
      path: lograge[2] as string,
      status: num(lograge[3]),
      bytes: null,
      durationMs: num(lograge[4]),
      micros: Number.NaN,
      started: false,
    };
  }
  const pino = message.includes('"method":"') ? PINO_REQ.exec(message) : null;
  if (pino !== null) {
    const status = PINO_STATUS.exec(message);
    return {
      method: pino[1] as string,
      path: pino[2] as string,
      status: status === null ? null : Number(status[1]),
      bytes: null,
      durationMs: num(PINO_TIME.exec(message)?.[1]),
      micros: Number.NaN,
      started: false,
    };
  }
  return null;
}

/** A request target without its query: what a router line and an access line share. */
export function barePath(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

/** The key an access line and a router error are matched by. */
export function accessKey(method: string, path: string): string {
  return `${method} ${barePath(path)}`;
}

/** The access line in words, for a reason: `POST /api/upload 503 (299 bytes, 48354 ms)`. */
export function describeAccess(a: AccessLine): string {
  const extra = [
    a.bytes === null ? '' : `${a.bytes} bytes`,
    a.durationMs === null ? '' : `${Math.round(a.durationMs)} ms`,
  ].filter((s) => s !== '');
  const status = a.started ? 'arriving' : a.status === null ? 'without a status' : `${a.status}`;
  return `${a.method} ${a.path.slice(0, 80)} ${status}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`;
}
