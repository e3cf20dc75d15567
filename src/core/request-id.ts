import { newRequestId } from './uuid.js';

/**
 * Heroku keeps a client's X-Request-Id only when it is 20 to 200 characters of
 * `A-Za-z0-9+/=-`; anything else is replaced by a new UUIDv4 (spec §3).
 */
const CHARSET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-';
const MIN_LENGTH = 20;
const MAX_LENGTH = 200;

/** 1 for each allowed character code below 256. */
const ALLOWED = new Uint8Array(256);
for (let i = 0; i < CHARSET.length; i++) ALLOWED[CHARSET.charCodeAt(i)] = 1;

/**
 * A loop over a table rather than a regular expression: the guard checks the router's id on
 * every request, and the loop takes about two thirds of the regular expression's time there
 * (docs/guard.md, "Eleventh session").
 */
export function isValidRequestId(value: string | undefined | null): value is string {
  if (typeof value !== 'string') return false;
  const n = value.length;
  if (n < MIN_LENGTH || n > MAX_LENGTH) return false;
  // Branch-free per character: a code above 255, or one not in the table, sets a bit.
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    bad |= (c >> 8) | ((ALLOWED[c & 0xff] as number) ^ 1);
  }
  return bad === 0;
}

/**
 * The id the router (and the guard) uses: the client's when valid, else a new UUIDv4 (legacy
 * router), or 128 random bits in UUID layout (`v4: false`, Router 2.0).
 */
export function requestIdFrom(value: string | undefined | null, v4 = true): string {
  return isValidRequestId(value) ? value : newRequestId(v4);
}
