import { newRequestId } from './uuid.js';

/**
 * Heroku keeps a client's X-Request-Id only when it is 20 to 200 characters of
 * `A-Za-z0-9+/=-`; anything else is replaced by a new UUIDv4 (spec §3).
 */
const VALID = /^[A-Za-z0-9+/=-]{20,200}$/;

export function isValidRequestId(value: string | undefined | null): value is string {
  return typeof value === 'string' && VALID.test(value);
}

/**
 * The id the router (and the guard) uses: the client's when valid, else a new UUIDv4 (legacy
 * router), or 128 random bits in UUID layout (`v4: false`, Router 2.0).
 */
export function requestIdFrom(value: string | undefined | null, v4 = true): string {
  return isValidRequestId(value) ? value : newRequestId(v4);
}
