/**
 * What the store keeps about a line, read once at ingest: its log time (request ids are
 * looked for around it), whether it is a router line (traffic per minute) and the platform
 * error it reports
 * (R10, R14, L10...: Heroku's dyno manager and logplex write `Error R14 (Memory quota
 * exceeded)`; logplex's own overflow notice is `Error L10 (output buffer overflow)`,
 * src/logplex_syslog_utils.erl in heroku/logplex).
 */

import { parseHerokuLine } from '../core/heroku-log.js';
import type { IngestLine, PlatformError } from './store.js';
import type { LogRecord } from './syslog-line.js';

const PLATFORM_MESSAGE = /^Error ([RL]\d\d) \(/;
/** A platform error in a line of any format (Papertrail writes `heroku/web.1:`). */
const PLATFORM_ANYWHERE = /\bheroku[/[]([A-Za-z0-9_.-]{1,64})\]?:\s*Error ([RL]\d\d) \(/;
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
  return { text, micros: null, router: false };
}
