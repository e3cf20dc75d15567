/**
 * The `Date` header value, formatted at most once per second (every response the router
 * writes or relays may need one; formatting a Date per request is measurable on the hot path).
 */

let cachedSecond = -1;
let cachedValue = '';

export function httpDate(nowMs: number = Date.now()): string {
  const second = Math.floor(nowMs / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedValue = new Date(second * 1000).toUTCString();
  }
  return cachedValue;
}
