/**
 * Runs the bad-request battery: each case on its own connection, never half-closed, its ending
 * classified by exchange(), judged against RFC 9112's acceptable answers and the router's
 * verdict. A silent close, reset, truncation or hang of a request the router forwards as sent is
 * a finding; everything else is information.
 */

import { type Ending, escapeBytes, exchange } from '../http/raw-exchange.js';
import { headerValues, type ResponseHead } from '../http/response-parser.js';
import { renderCase } from './battery.js';
import type { Acceptable, CaseDef, CaseGroup } from './battery-types.js';
import { CAUSES, codeForEnding, ENDING_WORDS, type Finding } from './findings.js';
import { type RouterVerdict, routerVerdict } from './router-verdict.js';
import type { ProbeTarget } from './target.js';

export interface CaseResult {
  readonly id: string;
  readonly group: CaseGroup;
  /** The bytes sent, escaped and shortened for display. */
  readonly request: string;
  readonly requestBytes: number;
  readonly rfc: string;
  readonly accept: Acceptable;
  readonly router: RouterVerdict;
  readonly ending: Ending;
  readonly status: number | null;
  readonly closedBy: 'fin' | 'rst' | 'open';
  readonly bytesReceived: number;
  readonly elapsedMs: number;
  /** The ending is in RFC 9112's acceptable set (a complete answer with an allowed status). */
  readonly conforms: boolean;
  /** Set when the ending needed interpretation (a reset right after a complete answer head). */
  readonly note: string | null;
  readonly finding: Finding | null;
}

export interface BadRequestOptions {
  readonly cases: readonly CaseDef[];
  /** Deadline of one case, from connect. */
  readonly timeoutMs: number;
  /** Cases in flight at once. */
  readonly concurrency: number;
  /** Called as each case ends (progress). */
  readonly onCase?: (done: number, total: number) => void;
}

export async function runBadRequests(
  target: ProbeTarget,
  options: BadRequestOptions,
): Promise<CaseResult[]> {
  const results: CaseResult[] = new Array(options.cases.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      const def = options.cases[i];
      if (def === undefined) return;
      results[i] = await runCase(target, def, options.timeoutMs);
      options.onCase?.(++done, options.cases.length);
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency, options.cases.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}

export async function runCase(
  target: ProbeTarget,
  def: CaseDef,
  timeoutMs: number,
): Promise<CaseResult> {
  const bytes = renderCase(def, target);
  const router = routerVerdict(bytes);
  const r = await exchange({ host: target.host, port: target.port, bytes, timeoutMs });
  // Node's canned 400 has no Content-Length: it ends at the close. When the client is still
  // sending, that close is an RST (unread data). The whole head arrived, so the status was
  // delivered; the reset is noted, not counted as a truncation.
  const resetAfterAnswer =
    r.ending === 'truncated' && r.closedBy === 'rst' && r.head !== null && closeDelimited(r.head);
  const ending: Ending = resetAfterAnswer ? 'answered' : r.ending;
  const conforms =
    ending === 'answered' &&
    r.status !== null &&
    (def.accept === 'any' || def.accept.includes(r.status));
  return {
    id: def.id,
    group: def.group,
    request: escapeBytes(bytes, 160),
    requestBytes: bytes.length,
    rfc: def.rfc,
    accept: def.accept,
    router,
    ending,
    status: r.status,
    closedBy: r.closedBy,
    bytesReceived: r.bytesReceived,
    elapsedMs: Math.round(r.elapsedMs),
    conforms,
    note: resetAfterAnswer
      ? 'reset right after a close-delimited answer: on a real network the RST can discard it (RFC 9112 §9.6)'
      : null,
    finding: router.kind === 'forward' ? findingFor(def, ending, r.bytesReceived) : null,
  };
}

function closeDelimited(head: ResponseHead): boolean {
  return (
    headerValues(head, 'content-length').length === 0 &&
    headerValues(head, 'transfer-encoding').length === 0
  );
}

function findingFor(def: CaseDef, ending: Ending, received: number): Finding | null {
  const code = codeForEnding(ending);
  if (code === null) return null;
  const advice =
    ending === 'open'
      ? CAUSES.parserHang
      : ending === 'truncated'
        ? CAUSES.truncated
        : def.group === 'early-response' && ending === 'reset'
          ? def.accept === 'any'
            ? CAUSES.earlyReset
            : CAUSES.answerLostToRst
          : CAUSES.parserClose;
  const where = code === 'H12' ? 'the router gives up after 30 s' : 'the router logs it';
  return {
    group: 'bad-requests',
    id: def.id,
    code,
    summary:
      `behind Heroku this request is an ${code}: ${ENDING_WORDS[ending]}` +
      `${received > 0 && ending === 'truncated' ? ` after ${received} bytes` : ''}; ${where}`,
    cause: advice.cause,
    fix: advice.fix,
  };
}
