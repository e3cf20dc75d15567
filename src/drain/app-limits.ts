/**
 * Per-app admission, so one app's flood cannot starve another: a token bucket of lines per
 * second (bursts of twice the rate) and a cap on requests in flight. A refused request gets
 * 429, which logplex retries (it drops a batch only on other 4xx answers:
 * handle_response_status in src/logplex_http_drain.erl of heroku/logplex).
 */

interface Bucket {
  tokens: number;
  updatedMs: number;
  inFlight: number;
}

export class AppLimits {
  private readonly buckets = new Map<string, Bucket>();
  /**
   * Apps not in the store yet whose first request is being handled, with how many of their
   * requests are. The store learns of an app only when its first batch commits, after the
   * body is read: without these, any number of new apps arriving together would all see
   * the store under --max-apps and all be kept.
   */
  private readonly arriving = new Map<string, number>();

  /**
   * A request of an app the store does not hold yet, given how many apps it holds: true
   * (and a place kept until `releaseNew`) when it still fits under `maxApps`. Conservative:
   * an app just committed may be counted twice until its request releases its place.
   */
  reserveNew(app: string, storedApps: number, maxApps: number): boolean {
    const held = this.arriving.get(app);
    if (held === undefined && storedApps + this.arriving.size >= maxApps) return false;
    this.arriving.set(app, (held ?? 0) + 1);
    return true;
  }

  releaseNew(app: string): void {
    const held = this.arriving.get(app) ?? 0;
    if (held <= 1) this.arriving.delete(app);
    else this.arriving.set(app, held - 1);
  }

  constructor(
    private readonly linesPerSecond: number,
    private readonly maxInFlight: number,
  ) {}

  private bucket(app: string, nowMs: number): Bucket {
    let b = this.buckets.get(app);
    if (b === undefined) {
      b = { tokens: this.linesPerSecond * 2, updatedMs: nowMs, inFlight: 0 };
      this.buckets.set(app, b);
    }
    return b;
  }

  /** A request of `app` starts; false when it already has the most allowed in flight. */
  enter(app: string, nowMs: number): boolean {
    const b = this.bucket(app, nowMs);
    if (b.inFlight >= this.maxInFlight) return false;
    b.inFlight++;
    return true;
  }

  leave(app: string): void {
    const b = this.buckets.get(app);
    if (b !== undefined && b.inFlight > 0) b.inFlight--;
  }

  /** Takes `lines` from the app's bucket; false (and nothing taken) when it has too few. */
  take(app: string, lines: number, nowMs: number): boolean {
    if (this.linesPerSecond === 0) return true;
    const b = this.bucket(app, nowMs);
    const burst = this.linesPerSecond * 2;
    b.tokens = Math.min(burst, b.tokens + ((nowMs - b.updatedMs) / 1000) * this.linesPerSecond);
    b.updatedMs = nowMs;
    // A batch larger than the whole burst could never pass, so a full bucket admits it; but
    // it pays for every line it carries (the bucket goes into debt), else one app sending
    // --max-body batches of tiny frames would get many times its rate and hold the event
    // loop for everyone else.
    const need = Math.min(lines, burst);
    if (b.tokens < need) return false;
    b.tokens -= lines;
    return true;
  }

  /** Seconds until `lines` fit, for Retry-After. */
  retryAfterSeconds(app: string, lines: number): number {
    if (this.linesPerSecond === 0) return 1;
    const b = this.buckets.get(app);
    const missing = Math.min(lines, this.linesPerSecond * 2) - (b?.tokens ?? 0);
    return Math.max(1, Math.ceil(missing / this.linesPerSecond));
  }
}
