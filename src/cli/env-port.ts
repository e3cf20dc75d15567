import { H13Error } from '../core/errors.js';

/** $PORT as Heroku sets it, else `fallback`; a $PORT that is not a port is an error, not ignored. */
export function portFromEnv(fallback = 3000): number {
  const raw = process.env.PORT;
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new H13Error(
      'H13_ERR_INVALID_OPTION',
      `PORT=${JSON.stringify(raw)} is not a port number`,
      { field: 'PORT' },
    );
  }
  return n;
}
