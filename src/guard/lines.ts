/**
 * Every line the guard writes, in the router's vocabulary (at, code, desc, method, path,
 * request_id, status) plus the guard's own fields (route, elapsed, cause, step, stack).
 * Request lines use one precompiled field order; the rare process lines use formatFields.
 */

import { ROUTER_CODES } from '../core/codes.js';
import { EVENT, type GuardCause } from '../core/guard-vocabulary.js';
import { compileLine, type LogfmtValue } from '../core/logfmt.js';
import type { Fields, Level, Output } from './output.js';
import type { RequestRecord, Step } from './record.js';

export type OutcomeCode = 'H13' | 'H18' | 'H27';

const REQUEST_LINE = compileLine([
  { key: 'at' },
  { key: 'code' },
  { key: 'event' },
  { key: 'desc', quote: 'always' },
  { key: 'method' },
  { key: 'path', quote: 'always' },
  { key: 'request_id' },
  { key: 'route', quote: 'always' },
  { key: 'status' },
  { key: 'elapsed' },
  { key: 'cause' },
  { key: 'received' },
  { key: 'sent_bytes' },
  { key: 'step', quote: 'always' },
  { key: 'stack', quote: 'always' },
]);

const REQUEST_KEYS = [
  'at',
  'code',
  'event',
  'desc',
  'method',
  'path',
  'request_id',
  'route',
  'status',
  'elapsed',
  'cause',
  'received',
  'sent_bytes',
  'step',
  'stack',
] as const;

function writeRequestLine(out: Output, level: Level, values: LogfmtValue[], message: string) {
  out.text(
    level,
    REQUEST_LINE(values),
    () => {
      const fields: Fields = {};
      for (let i = 1; i < REQUEST_KEYS.length; i++) fields[REQUEST_KEYS[i] as string] = values[i];
      return fields;
    },
    message,
  );
}

/** The one line for a response that ended unfinished (H13/H18) or a client that left (H27). */
export function unfinishedLine(
  out: Output,
  rec: RequestRecord,
  code: OutcomeCode,
  level: Level,
  cause: GuardCause,
  stack: string | undefined,
): void {
  const desc = ROUTER_CODES[code].desc;
  writeRequestLine(
    out,
    level,
    [
      level,
      code,
      undefined,
      desc,
      rec.method,
      rec.path,
      rec.id,
      rec.route,
      code === 'H18' ? rec.res.statusCode : undefined,
      rec.elapsed(),
      cause,
      rec.received,
      rec.sentBytes,
      rec.lastStep,
      stack,
    ],
    desc,
  );
}

/** The guard answered in the app's place (the router saw `status`, not an H13). */
export function answeredLine(
  out: Output,
  rec: RequestRecord,
  status: number,
  cause: GuardCause,
  stack: string | undefined,
): void {
  const desc = `Answered ${status} by the guard instead of closing without response`;
  writeRequestLine(
    out,
    'error',
    [
      'error',
      undefined,
      EVENT.answered,
      desc,
      rec.method,
      rec.path,
      rec.id,
      rec.route,
      status,
      rec.elapsed(),
      cause,
      // Nothing of the app's response had left: the client got the guard's whole answer.
      undefined,
      undefined,
      rec.lastStep,
      stack,
    ],
    desc,
  );
}

const STEP_LINE = compileLine([
  { key: 'at' },
  { key: 'event' },
  { key: 'step', quote: 'always' },
  { key: 'request_id' },
  { key: 'method' },
  { key: 'path', quote: 'always' },
  { key: 'elapsed' },
]);

const RESERVED = new Set(['at', 'event', 'step', 'request_id', 'method', 'path', 'elapsed']);

export function stepLine(out: Output, rec: RequestRecord, step: Step): void {
  const values: LogfmtValue[] = [
    'info',
    EVENT.step,
    step.label,
    rec.id,
    rec.method,
    rec.path,
    step.elapsed,
  ];
  const extra: Fields = {};
  if (step.fields !== undefined) {
    for (const key of Object.keys(step.fields)) {
      extra[RESERVED.has(key) ? `field_${key}` : key] = step.fields[key];
    }
  }
  const head = STEP_LINE(values);
  const fields = () => ({
    event: EVENT.step,
    step: step.label,
    request_id: rec.id,
    method: rec.method,
    path: rec.path,
    elapsed: step.elapsed,
    ...extra,
  });
  if (step.fields === undefined) {
    out.text('info', head, fields, step.label);
    return;
  }
  out.line('info', fields(), step.label);
}
