/**
 * The one timer of a request and what it means right now. The timer itself is the client
 * connection's reusable Deadline (deadline.ts), so arming it or sliding an idle window moves a
 * number instead of creating or re-inserting a Node timer; this module only records which
 * router code its expiry stands for, which follows the phase:
 * H20 (queued), H19 (connecting), H28 (sending), H12 (awaiting), H15 (streaming, upgraded).
 * Exchange.onTimer turns an expiry into that code.
 */

import type { Exchange } from './exchange.js';

export type TimerCode = 'H12' | 'H15' | 'H19' | 'H20' | 'H28';

export function setTimer(ex: Exchange, code: TimerCode, ms: number): void {
  ex.timerCode = code;
  ex.client.requestTimer.set(ms);
}

export function clearTimer(ex: Exchange): void {
  if (ex.timerCode !== null) {
    ex.client.requestTimer.clear();
    ex.timerCode = null;
  }
}

/** Bytes moved: restart the rolling idle window (H15 while streaming, H28 while sending). */
export function refreshIdle(ex: Exchange): void {
  if (ex.timerCode === 'H15' || ex.timerCode === 'H28')
    ex.client.requestTimer.set(ex.ctx.timers.idle);
}
