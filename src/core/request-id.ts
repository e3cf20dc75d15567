import { newRequestId } from './uuid.js';

/**
 * Heroku keeps a client's X-Request-Id only when it is 20 to 200 characters of
 * `A-Za-z0-9+/=-`; anything else is replaced by a new UUIDv4 (spec §3).
 */
const MIN_LENGTH = 20;
const MAX_LENGTH = 200;

/** Any character outside the charset (a UTF-16 code unit, so a surrogate is outside too). */
const OUTSIDE = /[^A-Za-z0-9+/=-]/;

/**
 * One search for a character outside the charset: the guard checks the router's id on every
 * request, and irregexp's compiled character-class scan costs less there than a loop of
 * charCodeAt calls over a table (docs/guard.md, "Twelfth session").
 */
export function isValidRequestId(value: string | undefined | null): value is string {
  if (typeof value !== 'string') return false;
  const n = value.length;
  return n >= MIN_LENGTH && n <= MAX_LENGTH && !OUTSIDE.test(value);
}

/**
 * The id the router (and the guard) uses: the client's when valid, else a new UUIDv4 (legacy
 * router), or 128 random bits in UUID layout (`v4: false`, Router 2.0).
 */
export function requestIdFrom(value: string | undefined | null, v4 = true): string {
  return isValidRequestId(value) ? value : newRequestId(v4);
}

/**
 * X-Request-Id from rawHeaders: reading req.headers would build Node's lazy headers object
 * on every request, which the bare server never pays for. A repeated header is invalid
 * (Node would join the values with ', '), so it gets a new id.
 */
export function rawRequestId(raw: string[]): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    // Heroku's router spells it X-Request-Id: compared as is before lowercasing a copy.
    if (name.length === 12 && (name === 'X-Request-Id' || name.toLowerCase() === 'x-request-id')) {
      if (found !== undefined) return undefined;
      found = raw[i + 1];
    }
  }
  return found;
}
