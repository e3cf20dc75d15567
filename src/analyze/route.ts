/**
 * Request paths grouped as routes: the query string dropped, numeric ids, UUIDs and hex
 * hashes replaced by `:id`, so `/orders/42?x=1` and `/orders/43` count together.
 */

/**
 * The route of a diagnosis that has no request (a platform error: R14, L10): said plainly,
 * never filled with the dyno's name (the dyno has a field of its own).
 */
export const NO_ROUTE = '(no route)';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NUMERIC = /^\d+$/;
const HEX = /^[0-9a-f]{8,}$/i;
const MAX_ROUTE = 120;

function idLike(segment: string): boolean {
  if (NUMERIC.test(segment)) return true;
  if (UUID.test(segment)) return true;
  // A hex hash has digits; a word made of a-f letters alone (`/facade`) is not an id.
  return HEX.test(segment) && /\d/.test(segment);
}

export function normaliseRoute(path: string): string {
  // An odd request target (`?invalid=request`, `*`, a full URL) is shown as it came.
  if (!path.startsWith('/')) return path.length > 60 ? `${path.slice(0, 60)}…` : path || '(empty)';
  let end = path.length;
  const q = path.indexOf('?');
  if (q >= 0) end = q;
  const hash = path.indexOf('#');
  if (hash >= 0 && hash < end) end = hash;
  const bare = path.slice(0, Math.min(end, 2048));
  if (bare === '') return q === 0 ? '?' : '/';
  const segments = bare.split('/');
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i] as string;
    if (s !== '' && idLike(s)) segments[i] = ':id';
  }
  const route = segments.join('/');
  return route.length > MAX_ROUTE ? `${route.slice(0, MAX_ROUTE)}…` : route;
}
