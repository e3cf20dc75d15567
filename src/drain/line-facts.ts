/**
 * What the store indexes about a line, read once at ingest: its log time, whether it is a
 * router line (traffic per minute), the request ids it carries (to follow an `x-request-id`
 * through the app's own lines, the advice of the H13 seed) and the platform error it reports
 * (R10, R14, L10...: Heroku's dyno manager and logplex write `Error R14 (Memory quota
 * exceeded)`; logplex's own overflow notice is `Error L10 (output buffer overflow)`,
 * src/logplex_syslog_utils.erl in heroku/logplex).
 */

import { parseHerokuLine } from '../core/heroku-log.js';
import type { IngestLine, PlatformError } from './store.js';
import type { LogRecord } from './syslog-line.js';

const REQUEST_ID = /request[_-]?id["']?\s*[=:]\s*"?([A-Za-z0-9+/=-]{20,200})/gi;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const PLATFORM_MESSAGE = /^Error ([RL]\d\d) \(/;
/** A platform error in a line of any format (Papertrail writes `heroku/web.1:`). */
const PLATFORM_ANYWHERE = /\bheroku[/[]([A-Za-z0-9_.-]{1,64})\]?:\s*Error ([RL]\d\d) \(/;
const MAX_IDS_PER_LINE = 4;

export function requestIdsOf(text: string): string[] {
  const ids = new Set<string>();
  for (const m of text.matchAll(REQUEST_ID)) {
    ids.add(m[1] as string);
    if (ids.size >= MAX_IDS_PER_LINE) return [...ids];
  }
  for (const m of text.matchAll(UUID)) {
    ids.add(m[0]);
    if (ids.size >= MAX_IDS_PER_LINE) break;
  }
  return [...ids];
}

/** Facts of a line whose record is known (a logplex frame). */
export function factsOfRecord(text: string, r: LogRecord, platform: PlatformError[]): IngestLine {
  if (r.source === 'heroku') {
    const m = PLATFORM_MESSAGE.exec(r.message);
    if (m !== null)
      platform.push({ code: m[1] as string, process: r.process, micros: r.micros, line: text });
  }
  return {
    text,
    micros: r.micros,
    requestIds: requestIdsOf(r.message),
    router: r.source === 'heroku' && r.process === 'router',
  };
}

/** Facts of a plain-text line: `heroku logs` lines are read, any other format kept as is. */
export function factsOfText(text: string, platform: PlatformError[]): IngestLine {
  const h = parseHerokuLine(text);
  if (h !== null && !Number.isNaN(h.micros))
    return factsOfRecord(text, { ...h, micros: h.micros }, platform);
  const m = PLATFORM_ANYWHERE.exec(text);
  if (m !== null)
    platform.push({ code: m[2] as string, process: m[1] as string, micros: null, line: text });
  return { text, micros: null, requestIds: requestIdsOf(text), router: false };
}
