/**
 * What a non-router line says, as evidence: the dyno manager's state changes and R-errors,
 * releases, app-server worker timeouts, stack traces, the guard's own lines. App lines are
 * classified only when a router error asks about them (most app lines never are).
 */

import { GUARD_FIELDS } from '../core/guard-vocabulary.js';
import { parseLogfmt } from '../core/logfmt.js';
import type { AccessLine } from './access-line.js';

export type EvidenceKind =
  /** The guard's line for the same request id. */
  | 'guard'
  /** Any app line carrying the request id. */
  | 'request-id'
  /** An error header or a stack frame. */
  | 'stack'
  | 'worker-timeout'
  /** A worker or child process killed by a signal or died (not a timeout). */
  | 'worker-died'
  /** JavaScript heap out of memory, V8's GC dump, R14, R15. */
  | 'memory'
  /** `Process exited with status N` (not after a SIGTERM: that is `stopped`). */
  | 'exit'
  /** `State changed from up to crashed`. */
  | 'crash'
  /** `State changed from starting to crashed`, R10. */
  | 'boot-failure'
  /** `Stopping all processes with SIGTERM`, R12. */
  | 'sigterm'
  /** `Stopping process with SIGKILL`: the dyno manager killed the process. */
  | 'kill'
  /** The app saying it shuts down (puma's `Gracefully shutting down`, `SIGTERM received`). */
  | 'shutdown'
  /** npm (or another launcher) logging that it died of the signal it was sent. */
  | 'launcher-exit'
  /** `Starting process with command ...` (detail: the command). */
  | 'start'
  /** `State changed from crashed|down to starting`. */
  | 'starting'
  /** `State changed from starting to up`. */
  | 'up'
  /** A database or upstream connection that failed. */
  | 'connection-failed'
  /** An access-log line for a request with no status (the response never went out). */
  | 'no-status'
  /** The app's access-log line for the request (access-line.ts): matched by method and path. */
  | 'access'
  /** Another H12 on the same route close by: the route itself is slow (h12-repeats.ts). */
  | 'timeout-repeat'
  /** The app logging a request finished after 29 s or more (`Completed in 37000ms`). */
  | 'slow'
  /** `Restarting`, `Cycling`, `State changed from up to starting`. */
  | 'restart'
  /** `Release v42 created by`, `Deploy`, `Scaled to`, `Set ... config vars`, `Rollback`. */
  | 'release';

export interface Evidence {
  readonly kind: EvidenceKind;
  readonly micros: number;
  /** `web.1`, `api`. */
  readonly process: string;
  /** The line as read, bounded and flattened (it outlives the input chunk). */
  readonly line: string;
  /** The message part of the line (after `source[process]: `). */
  readonly message: string;
  /** Exit status, guard cause, R-code: the part of the line the rule used. */
  readonly detail: string;
  /** kind 'access': the access line as read. */
  readonly access?: AccessLine;
}

export type Classified = { kind: EvidenceKind; detail: string } | null;

const STATE = /^State changed from (\w+) to (\w+)/;
const EXITED = /^Process exited(?: with status (\d+))?/;
const R_ERROR = /^Error (R\d\d) \(([^)]*)\)/;
const START = /^Starting process with command:? [`'"]?(.{1,200}?)[`'"]?\s*$/;

/** heroku[web.N] lines. */
export function classifyDynoManager(text: string): Classified {
  // Papertrail's viewer puts two spaces after the colon.
  const message = text.charCodeAt(0) === 32 ? text.trimStart() : text;
  const state = STATE.exec(message);
  if (state !== null) {
    const [, from, to] = state;
    if (to === 'crashed') {
      return from === 'starting'
        ? { kind: 'boot-failure', detail: `${from} → crashed` }
        : { kind: 'crash', detail: `${from} → crashed` };
    }
    // up → starting is a restart of a running dyno; crashed/down → starting is a (re)boot.
    if (to === 'starting')
      return from === 'up'
        ? { kind: 'restart', detail: 'up → starting' }
        : { kind: 'starting', detail: `${from} → starting` };
    if (to === 'up') return { kind: 'up', detail: `${from} → up` };
    return null;
  }
  const exited = EXITED.exec(message);
  if (exited !== null)
    return { kind: 'exit', detail: exited[1] === undefined ? 'exited' : `status ${exited[1]}` };
  if (message.startsWith('Stopping all processes with SIGTERM'))
    return { kind: 'sigterm', detail: 'SIGTERM' };
  if (message.startsWith('Stopping process with SIGKILL'))
    return { kind: 'kill', detail: 'SIGKILL' };
  const r = R_ERROR.exec(message);
  if (r !== null) {
    const code = r[1] as string;
    if (code === 'R10') return { kind: 'boot-failure', detail: `R10 ${r[2]}` };
    if (code === 'R14' || code === 'R15') return { kind: 'memory', detail: `${code} ${r[2]}` };
    if (code === 'R12') return { kind: 'sigterm', detail: `R12 ${r[2]}` };
    return { kind: 'crash', detail: `${code} ${r[2]}` };
  }
  const start = START.exec(message);
  if (start !== null) return { kind: 'start', detail: (start[1] as string).slice(0, 120) };
  if (/^(Restarting|Cycling)\b/.test(message))
    return { kind: 'restart', detail: message.split(' ')[0] as string };
  return null;
}

/** A platform error line (`Error R14 (Memory quota exceeded)`, `Error L10 (...)`): its code. */
export function platformErrorCode(message: string): string | null {
  const m = /^\s*Error ([RL]1\d) \(/.exec(message);
  return m === null ? null : (m[1] as string);
}

const RELEASE =
  /^(Release v\d+|Deploy [0-9a-f]+|Scaled? to|Set .{0,200} config vars?|Remove .{0,200} config vars?|Unset .{0,200} config vars?|Rollback to v\d+|Rolled back)/;

/** app[api] / heroku[api] lines. */
export function classifyApi(message: string): Classified {
  const m = RELEASE.exec(message);
  return m === null ? null : { kind: 'release', detail: (m[1] as string).slice(0, 80) };
}

const WORKER_TIMEOUT =
  /WORKER TIMEOUT|timeout \(\d+s > \d+s\)|Terminating timed out worker|worker.{0,40}timed out/i;
const WORKER_DIED =
  /terminated due to signal|Child process \[?\d*\]? ?died|was sent SIGKILL|Worker \(pid:\d+\) (?:was sent|exited)|reaped .{0,60}(?:SIGKILL|signal 9)|worker .{0,40}(?:died|was killed|killed by signal)|exited with code 137|SIGSEGV|Segmentation fault/i;
const HEAP_OOM =
  /JavaScript heap out of memory|Allocation failed - |MemoryError\b|NoMemoryError|failed to allocate memory|Last few GCs|\bMark-(?:sweep|Compact)\b|Ineffective mark-compacts|Reached heap limit|Cannot allocate memory|OOMKilled/i;
/** npm (or yarn) dying of the signal it was sent: the launcher went before the app. */
const LAUNCHER_EXIT =
  /^npm (?:ERR!|error) (?:signal SIGTERM|command failed|code ELIFECYCLE|Lifecycle script)|^error Command failed with signal "SIGTERM"|^npm (?:ERR!|error) .{0,80}SIGTERM/;
const SHUTDOWN =
  /Gracefully shutting down|graceful(?:ly)? shut ?down|shutting down gracefully|(?:Received|received|Got|got|caught|Caught|Handling signal:?) ?(?:SIGTERM|signal:? term)|SIGTERM received|\bShutting down\b|Stopping gracefully|Exiting on SIGTERM/i;
const CONNECTION_FAILED =
  /ECONNREFUSED|connect ETIMEDOUT|MongoNetworkError|Mongo\w*ServerSelectionError|Sequelize\w*Connection\w*Error|PG::ConnectionBad|could not connect to (?:the )?(?:database|server|postgres|mysql|redis)|failed to connect to|Unable to connect to the database|getaddrinfo (?:ENOTFOUND|EAI_AGAIN)|Can't connect to (?:local )?MySQL|password authentication failed|ER_ACCESS_DENIED|Connection terminated unexpectedly/i;
/** An access-log line whose status is `-` (morgan's `GET /x - - ms - -`, a combined log `" - -`). */
const NO_STATUS =
  /\b(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \/\S* (?:HTTP\/[\d.]+" )?- - ?(?:ms|-|"|$)/;
/** A request's duration in milliseconds, as frameworks log it when it completes. */
const SLOW =
  /\b(?:Completed|completed|finished|Finished|took|in)\b.{0,40}?\b(\d{5,8})(?:\.\d+)? ?ms\b/;
const FRAME =
  /^\s+at \S|^\s*File "[^"]+", line \d+|^\s*(?:from )?[\w./-]+\.(?:rb|py|js|ts|mjs|cjs|ex|java|go|php):\d+(?::in |\b)/;
const ERROR_HEAD =
  /^(?:Uncaught |\[?Unhandled\w*\]?:? ?)?(?:[A-Z][\w.]*)?(?:Error|Exception)\b(?: \[[A-Z_]+\])?:|^Traceback \(most recent call last\)|^node:internal\/|^\s*throw \w|^\[UnhandledPromiseRejection|\bUncaught\b|\bunhandledRejection\b|\b(?:FATAL|ERROR|CRITICAL)\b.{0,80}(?:exception|error|unhandled)|Error reached top of thread-pool|Exception in worker process|^(?:[A-Z]\w*)?Error: |\[(?:ERROR|CRITICAL|FATAL)\]|^E, \[|\bERROR -- |\berror:/i;

/**
 * A word every pattern above needs (the same `i` matching, so nothing they match is missed):
 * most app lines have none, and one scan for it costs less than the patterns.
 */
const MAYBE_EVIDENCE =
  /error|exception|traceback|node:internal|throw|unhandled|uncaught|worker|timeout|memory|allocation failed/i;
/**
 * The words of the rarer kinds (shutdown, launcher, worker death, V8's GC dump, refused
 * connections), case-sensitive as they are logged: one case-insensitive pattern of all the
 * words cost three times the two of them (measured on the benchmark's app lines).
 */
const MAYBE_MORE =
  /SIG|signal|died|killed|npm |hutting|raceful|Mark-|few GCs|refused|REFUSED|connect to|Connection/;

/** A longer app line is never evidence (a dump, a payload): it is not worth the patterns. */
const MAX_EVIDENCE_CHARS = 4096;

/**
 * MAYBE_EVIDENCE and FRAME again, to be run on a whole line from where its message starts
 * (`lastIndex`): V8 matched a flat string about 1.6 times as fast as the slice a message would
 * be, and nearly every app line is asked about once while errors are pending.
 */
const MAYBE_EVIDENCE_FROM = new RegExp(MAYBE_EVIDENCE.source, 'gi');
const MAYBE_MORE_FROM = new RegExp(MAYBE_MORE.source, 'g');
// Each alternative's leading `^` goes: the sticky flag anchors them at lastIndex instead.
const FRAME_AT = new RegExp(FRAME.source.replace(/(^|\|)\^/g, '$1'), 'y');

/**
 * Whether classifyApp could find evidence in `raw.slice(offset)`, without slicing: false
 * means it would return null. Most app lines end here.
 */
export function mayBeEvidence(raw: string, offset: number): boolean {
  if (raw.length - offset > MAX_EVIDENCE_CHARS) return false;
  MAYBE_EVIDENCE_FROM.lastIndex = offset;
  if (MAYBE_EVIDENCE_FROM.test(raw)) return true;
  MAYBE_MORE_FROM.lastIndex = offset;
  if (MAYBE_MORE_FROM.test(raw)) return true;
  FRAME_AT.lastIndex = offset;
  return FRAME_AT.test(raw);
}

/** app[web.N] lines, asked about when a router error needs evidence. */
export function classifyApp(message: string): Classified {
  if (message.length > MAX_EVIDENCE_CHARS) return null;
  if (!MAYBE_EVIDENCE.test(message) && !MAYBE_MORE.test(message) && !FRAME.test(message))
    return null;
  const text = message.trim().slice(0, 120);
  if (WORKER_TIMEOUT.test(message)) return { kind: 'worker-timeout', detail: text };
  if (HEAP_OOM.test(message)) return { kind: 'memory', detail: 'out of memory' };
  if (LAUNCHER_EXIT.test(message.trimStart())) return { kind: 'launcher-exit', detail: text };
  if (WORKER_DIED.test(message)) return { kind: 'worker-died', detail: text };
  if (SHUTDOWN.test(message)) return { kind: 'shutdown', detail: text };
  if (CONNECTION_FAILED.test(message)) return { kind: 'connection-failed', detail: text };
  if (FRAME.test(message)) return { kind: 'stack', detail: 'frame' };
  if (ERROR_HEAD.test(message)) return { kind: 'stack', detail: 'error' };
  return null;
}

/** Whether `raw` from `offset` has `NNNNNms` (five digits or more, a fraction or a space allowed). */
function hasLongMs(raw: string, offset: number): boolean {
  for (let j = raw.indexOf('ms', offset); j >= 0; j = raw.indexOf('ms', j + 2)) {
    let k = j - 1;
    if (raw.charCodeAt(k) === 32) k--;
    let digits = 0;
    for (; k >= offset; k--) {
      const c = raw.charCodeAt(k);
      if (c >= 48 && c <= 57) digits++;
      else if (c === 46 /* . */) digits = 0;
      else break;
    }
    if (digits >= 5) return true;
  }
  return false;
}

/**
 * What only an H12 asks of a line (it waited 30 s for the answer): the request logged
 * finishing after 29 s or more, or an access-log line without a status. Kept out of
 * classifyApp, which every app line near any error goes through.
 */
export function requestTimeoutEvidence(
  process: string,
  micros: number,
  raw: string,
  offset: number,
): Evidence | null {
  if (raw.length - offset > MAX_EVIDENCE_CHARS) return null;
  // Most lines have neither a 5-digit millisecond count nor `- -`: two searches say so.
  const slowish = hasLongMs(raw, offset);
  if (!slowish && raw.indexOf('- -', offset) < 0) return null;
  const message = raw.slice(offset);
  let kind: EvidenceKind | null = null;
  const slow = slowish ? SLOW.exec(message) : null;
  if (slow !== null && Number(slow[1]) >= 29_000) kind = 'slow';
  else if (NO_STATUS.test(message)) kind = 'no-status';
  if (kind === null) return null;
  const detached = detach(message);
  return {
    kind,
    micros,
    process,
    line: detach(raw),
    message: detached,
    detail: detached.trim().slice(0, 120),
  };
}

/** An app line as evidence (a stack line, a worker timeout, out of memory), or null. */
export function appEvidence(
  process: string,
  micros: number,
  raw: string,
  chunkMessage: string,
): Evidence | null {
  const c = classifyApp(chunkMessage);
  if (c === null) return null;
  const message = detach(chunkMessage);
  return {
    kind: c.kind,
    micros,
    process,
    line: detach(raw),
    message,
    detail: c.kind === 'stack' ? (frameKey(message) ?? 'error') : detach(c.detail, 200),
  };
}

/** A stack frame line, normalised for deduplication (leading space, `from `, columns cut). */
export function frameKey(message: string): string | null {
  if (!FRAME.test(message)) return null;
  return message
    .trim()
    .replace(/^from /, '')
    .replace(/:(\d+):\d+(\)?)$/, ':$1$2')
    .replace(/^at /, '')
    .slice(0, 200);
}

export interface GuardLine {
  readonly code: string;
  readonly requestId: string;
  readonly cause: string;
  readonly step: string;
  readonly stack: string;
}

/**
 * The field only the guard writes on its request lines (src/guard/lines.ts): a router line
 * never has it, so a router line pasted without its head is never read as the guard's.
 */
const GUARD_MARKER = new RegExp(` ${GUARD_FIELDS.elapsed}=`);
/** Fields only the router writes. */
const ROUTER_ONLY = / (?:fwd|connect|dyno)=/;

/** Whether a message is the guard's own request line (its marker, no router-only field). */
export function isGuardMessage(message: string): boolean {
  return (
    message.startsWith('at=') &&
    message.includes(`${GUARD_FIELDS.code}=H`) &&
    message.includes(`${GUARD_FIELDS.requestId}=`) &&
    GUARD_MARKER.test(message) &&
    !ROUTER_ONLY.test(message)
  );
}

/** The guard's `at=error code=H13 ... request_id=... elapsed=... cause=... step=... stack=...`. */
export function parseGuardLine(message: string): GuardLine | null {
  if (!isGuardMessage(message)) return null;
  const fields = new Map(parseLogfmt(message.slice(0, 8192)));
  const code = fields.get(GUARD_FIELDS.code);
  const requestId = fields.get(GUARD_FIELDS.requestId);
  if (code === undefined || requestId === undefined || !/^H\d\d$/.test(code)) return null;
  return {
    code,
    requestId,
    cause: fields.get(GUARD_FIELDS.cause) ?? '',
    step: fields.get(GUARD_FIELDS.step) ?? '',
    stack: fields.get(GUARD_FIELDS.stack) ?? '',
  };
}

/**
 * Copy a line out of its input chunk so keeping it does not keep the chunk. A slice of a
 * string in V8 points into the whole string; prefixing a character makes a pair of strings
 * that slice() must first flatten into a new string of the line's length, and the result
 * points into that copy only. About 45 ns against 230–370 ns for a round trip through a
 * Buffer, which this replaced (46 646 calls on the 1M-line benchmark log). The --big
 * benchmark (peak RSS on a 1 GB log) would show a line that still held its chunk.
 */
export function detach(line: string, max = 2048): string {
  const cut = line.length > max ? `${line.slice(0, max)}…` : line;
  return ` ${cut}`.slice(1);
}
