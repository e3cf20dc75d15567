/**
 * An ExportLogsServiceRequest (in its OTLP JSON shape, see otlp-schema.ts) as `heroku logs`
 * lines, one BodyLines per app. What Heroku's Fir telemetry drains send, and how it maps,
 * is in docs/drain.md "Fir telemetry drains"; in short:
 *
 * - the app is the one named in the drain's path when it has one, else the record's
 *   `heroku.app.name` or `service.name` attribute (record attributes before resource ones,
 *   as an app's own values override the resource's in Heroku's reference);
 * - `service.name` `heroku-router` is the router (`heroku[router]`), `heroku-api` the
 *   platform API (`app[api]`), any other `heroku-*` the platform about a dyno
 *   (`heroku[DYNO]`), anything else the app's own output (`app[DYNO]`), DYNO being the Fir
 *   dyno name (`web-58f4b5c5d-abcde`) as sent;
 * - the time is timeUnixNano, else observedTimeUnixNano, else the time of arrival;
 * - a router record with no body is written from its attributes, under the router line's
 *   names or OpenTelemetry's HTTP ones (ROUTER_FIELDS).
 *
 * A container of the wrong shape makes the request unreadable (400); a record of the wrong
 * shape, or whose app is unknown, is rejected alone and reported in partial_success.
 */

import { formatValue, safeKey } from '../core/logfmt.js';
import { BodyLines } from './body-lines.js';
import { isAppName } from './context.js';

/** Nesting of arrays and maps rendered in a body; deeper values show as `…`. */
const MAX_DEPTH = 8;
/** Rejection reasons kept for the answer's error_message. */
const MAX_REASONS = 3;
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const PROCESS_OK = /^[^\]\s]{1,128}$/;
/**
 * Attributes that may name the dyno, first found wins (see docs/drain.md). `heroku.dyno.name`
 * is the one Heroku's Fir reference documents (as its Telemetry team's proposal to
 * OpenTelemetry lists it); the others are what older conventions and generic SDKs set.
 * OpenTelemetry's Heroku resource conventions put the dyno's id in service.instance.id: kept
 * only when it is a name (`web-58f4b5c5d-abcde`), not a UUID, as the router's `dyno=` field
 * gives names. Last, the dyno's type (`web`), which at least says which process spoke.
 */
const DYNO_KEYS = [
  'heroku.dyno.name',
  'heroku.dyno',
  'dyno',
  'service.instance.id',
  'k8s.pod.name',
  'host.name',
  'heroku.dyno.type',
  'heroku.workload.id',
];
/**
 * A router record with no body is written as a router line from its attributes. Heroku says
 * its telemetry adheres to OpenTelemetry's semantic conventions, so each field of the router
 * line is taken under its own name, else under the convention's (HTTP spans and logs:
 * `http.request.method`, `url.path`, ...), else left out. In the router line's order.
 */
const ROUTER_FIELDS: ReadonlyArray<readonly [string, ...string[]]> = [
  ['at'],
  ['code'],
  ['desc'],
  ['method', 'http.request.method'],
  ['path', 'url.path'],
  ['host', 'server.address'],
  ['request_id', 'http.request.header.x-request-id'],
  ['fwd', 'client.address'],
  ['dyno', 'heroku.dyno.name'],
  ['connect'],
  ['service'],
  ['status', 'http.response.status_code'],
  ['bytes', 'http.response.body.size'],
  ['protocol', 'url.scheme'],
];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface OtlpLogs {
  readonly byApp: Map<string, BodyLines>;
  /** Records read, kept or not. */
  readonly records: number;
  readonly rejected: number;
  /** The first few reasons for rejected records, for partial_success.error_message. */
  readonly reasons: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A repeated field: absent is empty (proto3); anything but an array is a shape error. */
function list(o: Obj, key: string, where: string): unknown[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ShapeError(`${where}.${key} must be an array`);
  return v;
}

class ShapeError extends Error {}

/** The request's records by app; a string when the request itself has the wrong shape. */
export function readLogs(
  request: unknown,
  pathApp: string | null,
  receivedMicros: number,
  maxLineBytes: number,
): OtlpLogs | string {
  const out: OtlpLogs = { byApp: new Map(), records: 0, rejected: 0, reasons: [] };
  const reject = (reason: string) => {
    (out as { rejected: number }).rejected++;
    if (out.reasons.length < MAX_REASONS && !out.reasons.includes(reason)) out.reasons.push(reason);
  };
  try {
    if (!isObj(request))
      throw new ShapeError('the body must be an ExportLogsServiceRequest object');
    for (const [i, rl] of list(request, 'resourceLogs', 'request').entries()) {
      if (!isObj(rl)) throw new ShapeError(`resourceLogs[${i}] must be an object`);
      const resource = isObj(rl.resource) ? attributes(rl.resource.attributes) : new Map();
      for (const [j, sl] of list(rl, 'scopeLogs', `resourceLogs[${i}]`).entries()) {
        if (!isObj(sl))
          throw new ShapeError(`resourceLogs[${i}].scopeLogs[${j}] must be an object`);
        for (const record of list(sl, 'logRecords', `resourceLogs[${i}].scopeLogs[${j}]`)) {
          (out as { records: number }).records++;
          readRecord(record, resource, pathApp, receivedMicros, maxLineBytes, out, reject);
        }
      }
    }
  } catch (err) {
    if (err instanceof ShapeError) return err.message;
    throw err;
  }
  return out;
}

function readRecord(
  record: unknown,
  resource: Map<string, unknown>,
  pathApp: string | null,
  receivedMicros: number,
  maxLineBytes: number,
  out: OtlpLogs,
  reject: (reason: string) => void,
): void {
  if (!isObj(record)) {
    reject('a log record that is not an object');
    return;
  }
  const own = attributes(record.attributes);
  const attr = (key: string): string | undefined => {
    const v = own.get(key) ?? resource.get(key);
    const s = v === undefined ? undefined : scalar(v);
    return s === undefined || s === '' ? undefined : s;
  };
  const service = attr('service.name');
  const app = pathApp ?? attr('heroku.app.name') ?? (isHeroku(service) ? undefined : service);
  if (app === undefined || !isAppName(app)) {
    reject(
      app === undefined
        ? 'a record with no app: send to /otlp/APP/v1/logs, or set service.name'
        : 'a record whose app name is not 1-100 letters, digits, ".", "_" or "-"',
    );
    return;
  }
  let lines = out.byApp.get(app);
  if (lines === undefined) {
    lines = new BodyLines(maxLineBytes);
    out.byApp.set(app, lines);
  }
  lines.count('otlp-records');
  const micros = nanosToMicros(record.timeUnixNano) ?? nanosToMicros(record.observedTimeUnixNano);
  if (micros === null) lines.count('otlp-untimed');
  let dyno: string | undefined;
  for (const key of DYNO_KEYS) {
    dyno = attr(key);
    if (dyno !== undefined && PROCESS_OK.test(dyno) && !UUID.test(dyno)) break;
    dyno = undefined;
  }
  dyno ??= 'unknown';
  const [source, proc] =
    service === 'heroku-router'
      ? ['heroku', 'router']
      : service === 'heroku-api'
        ? ['app', 'api']
        : isHeroku(service)
          ? ['heroku', dyno]
          : ['app', dyno];
  // A router record whose body is empty carries its fields as attributes: they make its line.
  let message = render(record.body, 0, maxLineBytes);
  if (message === '' && source === 'heroku' && proc === 'router')
    message = logfmt(routerFields(own, resource), 0, maxLineBytes);
  lines.addRecord({
    micros: micros ?? receivedMicros,
    source,
    process: proc,
    message: checked(lines, message, maxLineBytes),
  });
}

const isHeroku = (service: string | undefined): boolean => service?.startsWith('heroku-') === true;

/**
 * A router record's attributes as the fields of a router line (ROUTER_FIELDS), then the
 * record's other attributes as they are. A path's query (`url.query`) is put back on it, as
 * the router's `path=` carries both. The dyno may be a resource attribute.
 */
function routerFields(
  own: Map<string, unknown>,
  resource: Map<string, unknown>,
): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const used = new Set<string>();
  for (const [field, ...aliases] of ROUTER_FIELDS) {
    for (const key of [field, ...aliases]) {
      const v = own.get(key) ?? (key === 'heroku.dyno.name' ? resource.get(key) : undefined);
      const text = firstScalar(v);
      if (text === undefined || text === '') continue;
      used.add(key);
      let value = text;
      if (key === 'url.path') {
        const query = firstScalar(own.get('url.query'));
        if (query !== undefined && query !== '') {
          value = `${text}?${query}`;
          used.add('url.query');
        }
      }
      out.set(field, { stringValue: value });
      break;
    }
  }
  for (const [key, v] of own) if (!used.has(key) && !out.has(key)) out.set(key, v);
  return out;
}

/** A scalar AnyValue, or the first item of an array of them (HTTP headers are arrays). */
function firstScalar(v: unknown): string | undefined {
  if (isObj(v) && isObj(v.arrayValue) && Array.isArray(v.arrayValue.values))
    return scalar(v.arrayValue.values[0]);
  return scalar(v);
}

/** Counts what is wrong with a message the way BodyLines does for bytes, and cuts it. */
function checked(lines: BodyLines, text: string, maxLineBytes: number): string {
  let t = text;
  if (Buffer.byteLength(t) > maxLineBytes) {
    lines.problem('oversized-line', t.slice(0, 200));
    t = Buffer.from(t).subarray(0, maxLineBytes).toString('utf8');
  }
  // Decoders put U+FFFD where the bytes were not UTF-8.
  if (t.includes('\ufffd')) lines.problem('invalid-utf8', t);
  if (CONTROL.test(t)) lines.problem('binary-line', t);
  return t;
}

function attributes(v: unknown): Map<string, unknown> {
  const map = new Map<string, unknown>();
  if (!Array.isArray(v)) return map;
  for (const kv of v) if (isObj(kv) && typeof kv.key === 'string') map.set(kv.key, kv.value);
  return map;
}

/** A string, number or boolean AnyValue as text; undefined for anything else. */
function scalar(v: unknown): string | undefined {
  if (!isObj(v)) return undefined;
  if (typeof v.stringValue === 'string') return v.stringValue;
  for (const key of ['intValue', 'doubleValue', 'boolValue'] as const) {
    const x = v[key];
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') return String(x);
  }
  return undefined;
}

/** An AnyValue as one text: strings as they are, maps as logfmt, arrays as `[a, b]`. */
function render(v: unknown, depth: number, max: number): string {
  if (!isObj(v)) return '';
  const s = scalar(v);
  // One character past the cap, so checked() sees the value was longer and counts it.
  if (s !== undefined) return s.length > max ? s.slice(0, max + 1) : s;
  if (depth >= MAX_DEPTH) return '…';
  if (isObj(v.kvlistValue)) return logfmt(attributes(v.kvlistValue.values), depth + 1, max);
  if (isObj(v.arrayValue) && Array.isArray(v.arrayValue.values)) {
    let text = '[';
    for (const item of v.arrayValue.values) {
      if (text.length > max) break;
      text += `${text.length > 1 ? ', ' : ''}${render(item, depth + 1, max)}`;
    }
    return `${text}]`;
  }
  if (typeof v.bytesValue === 'string') return v.bytesValue.slice(0, max + 1);
  return '';
}

function logfmt(map: Map<string, unknown>, depth: number, max: number): string {
  const parts: string[] = [];
  let size = 0;
  for (const [key, value] of map) {
    if (size > max) break;
    const part = `${safeKey(key.slice(0, 200))}=${formatValue(render(value, depth, max))}`;
    parts.push(part);
    size += part.length + 1;
  }
  return parts.join(' ');
}

/** fixed64 nanoseconds (a decimal string in OTLP JSON, or a number) to microseconds. */
function nanosToMicros(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return Math.floor(v / 1000);
  if (typeof v !== 'string' || !/^\d{1,20}$/.test(v)) return null;
  const micros = Number(BigInt(v) / 1000n);
  return micros > 0 && Number.isSafeInteger(micros) ? micros : null;
}
