/**
 * A logout ends the session on every process sharing the store, pages and live streams alike.
 *
 * Pages: the ended session's row is committed to `revoked_sessions` before the logout is
 * answered, and every process checks that table whenever a cookie is presented
 * (session.ts `currentSession`), so there is no window.
 *
 * Live streams (`GET /events`) were checked once, when they opened. The process that served
 * the logout ends its own at once, and tells the others with a NOTIFY on the live channel
 * (pg-live.ts), which they act on as it arrives. A notification can be lost (the listening
 * connection is being re-established), so each process also looks, every `sweepMs`, for
 * streams whose session the store has as ended: the bound on a lost notification.
 */

import type { LogfmtValue } from '../core/logfmt.js';
import type { LiveEvents } from './live-events.js';
import { encodeLive, type LiveMessage } from './pg-live.js';
import { rememberEnded, type Session, type SessionKeys } from './session.js';
import type { Store } from './store.js';

/** The live-channel event that carries an ended session's nonce (never sent to pages). */
export const SESSION_ENDED = 'session-ended';

export interface SessionEnds {
  /** A logout: stored first, then this process's streams of it ended, then the others told. */
  end(session: Session): Promise<void>;
  /** A message from the live channel; true when it was a session's end (handled here). */
  received(message: LiveMessage): boolean;
  close(): void;
}

export interface SessionEndsOptions {
  readonly store: Pick<Store, 'revokeSession' | 'revokedSessions'>;
  readonly keys: SessionKeys;
  readonly live: LiveEvents;
  /** NOTIFY on the live channel (several processes on PostgreSQL); null with one process. */
  readonly share: ((payload: string) => Promise<void>) | null;
  /** Names this process in what it shares. */
  readonly origin: string;
  readonly sweepMs: number;
  readonly log: (fields: Readonly<Record<string, LogfmtValue>>) => void;
}

export function sessionEnds(o: SessionEndsOptions): SessionEnds {
  const endHere = (nonce: string, why: string) => {
    rememberEnded(o.keys, nonce);
    const streams = o.live.endSession(nonce);
    if (streams > 0) o.log({ at: 'info', event: 'session-streams-ended', streams, why });
  };
  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    const open = o.live.sessions();
    if (open.size === 0) return;
    sweeping = true;
    try {
      for (const nonce of await o.store.revokedSessions(Date.now()))
        if (open.has(nonce)) endHere(nonce, 'sweep');
    } catch (err) {
      o.log({ at: 'warn', event: 'session-sweep-failed', error: (err as Error).message });
    } finally {
      sweeping = false;
    }
  };
  const timer = setInterval(() => void sweep(), o.sweepMs);
  timer.unref();
  return {
    async end(session) {
      await o.store.revokeSession(session.nonce, session.expiresMs);
      endHere(session.nonce, 'logout');
      if (o.share === null) return;
      const payload = encodeLive({
        from: o.origin,
        app: '',
        event: SESSION_ENDED,
        data: { nonce: session.nonce },
      });
      // Not fatal: the other processes' pages are refused by the store already, and their
      // streams are found by the sweep.
      if (payload !== null)
        await o
          .share(payload)
          .catch((err: unknown) =>
            o.log({ at: 'warn', event: 'session-end-share-failed', error: (err as Error).message }),
          );
    },
    received(message) {
      if (message.event !== SESSION_ENDED) return false;
      const nonce = (message.data as { nonce?: unknown } | null)?.nonce;
      if (typeof nonce === 'string' && nonce.length <= 64) endHere(nonce, 'notify');
      return true;
    },
    close() {
      clearInterval(timer);
    },
  };
}
