/**
 * Live events across drain processes sharing PostgreSQL: the process that stores a diagnosis
 * publishes it to its own pages and NOTIFYs it on `h13_live`; every other process's listening
 * session (pg-analysis.ts) hands it to its pages. NOTIFY payloads are capped by PostgreSQL
 * (8000 bytes by default): a larger event stays local, and the other processes' pages show
 * it at their next load. The same channel carries the end of a login session (event
 * `session-ended`, session-ends.ts), which closes that session's streams on every process.
 */

export const LIVE_CHANNEL = 'h13_live';
const MAX_PAYLOAD = 7900;

export interface LiveMessage {
  /** The sending process, so it does not publish its own event twice. */
  readonly from: string;
  readonly app: string;
  readonly event: string;
  readonly data: unknown;
}

export function encodeLive(message: LiveMessage): string | null {
  const text = JSON.stringify(message);
  return Buffer.byteLength(text) > MAX_PAYLOAD ? null : text;
}

/** A payload read back; null for anything not shaped as encodeLive writes (never thrown). */
export function decodeLive(payload: string | undefined): LiveMessage | null {
  if (payload === undefined) return null;
  try {
    const m = JSON.parse(payload) as Partial<LiveMessage>;
    if (typeof m.from !== 'string' || typeof m.app !== 'string' || typeof m.event !== 'string')
      return null;
    return { from: m.from, app: m.app, event: m.event, data: m.data };
  } catch {
    return null;
  }
}
