/**
 * A reusable, lazily re-armed timer for the router's per-connection and per-request timers
 * (clientHead; H12, H15, H19, H20, H28).
 *
 * Moving or clearing the deadline only stores a number; the underlying Node timer is created
 * only when none is pending or the pending one would fire too late. A timer that fires before
 * the current deadline re-arms itself for the rest. Under keep-alive load a connection thus
 * does about one timer operation per timeout period instead of a setTimeout/clearTimeout (or
 * refresh) per request and per relayed chunk. `fire` runs no earlier than 1 ms before the
 * deadline (SLACK_MS: Node's timers have millisecond precision).
 */

import { performance } from 'node:perf_hooks';

/** performance.now() and libuv's loop clock may disagree by a fraction of a millisecond. */
const SLACK_MS = 1;

function onTimer(deadline: Deadline): void {
  deadline.onTimer();
}

export class Deadline {
  /** When `fire` is due (performance.now() ms); Infinity when cleared. */
  #due = Number.POSITIVE_INFINITY;
  #timer: NodeJS.Timeout | null = null;
  /** When the pending Node timer fires. */
  #timerDue = 0;
  readonly #fire: () => void;

  constructor(fire: () => void) {
    this.#fire = fire;
  }

  get armed(): boolean {
    return this.#due !== Number.POSITIVE_INFINITY;
  }

  /** Fire `ms` from now (replacing any earlier deadline). */
  set(ms: number): void {
    const due = performance.now() + ms;
    this.#due = due;
    if (this.#timer !== null) {
      if (this.#timerDue <= due + SLACK_MS) return; // fires first, then re-arms for the rest
      clearTimeout(this.#timer);
    }
    this.#arm(ms, due);
  }

  clear(): void {
    this.#due = Number.POSITIVE_INFINITY;
  }

  /** Stop for good (the connection closed): no timer is left pending. */
  dispose(): void {
    this.#due = Number.POSITIVE_INFINITY;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  onTimer(): void {
    this.#timer = null;
    if (this.#due === Number.POSITIVE_INFINITY) return;
    const left = this.#due - performance.now();
    if (left > SLACK_MS) {
      this.#arm(Math.ceil(left), this.#due);
      return;
    }
    this.#due = Number.POSITIVE_INFINITY;
    this.#fire();
  }

  #arm(ms: number, due: number): void {
    this.#timerDue = due;
    this.#timer = setTimeout(onTimer, ms, this);
  }
}
