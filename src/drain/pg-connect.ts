/**
 * Connection settings for `DATABASE_URL`. Heroku Postgres requires TLS and, on its common
 * plans, presents a certificate no public CA signed: Heroku's Dev Center ("Connecting to
 * Heroku Postgres", Node.js: https://devcenter.heroku.com/articles/connecting-heroku-postgres)
 * tells node-postgres users to pass `ssl: { rejectUnauthorized: false }`. So a remote server
 * gets TLS without verification unless the URL asks otherwise: `sslmode=disable` (no TLS),
 * `sslmode=verify-full` (TLS, certificate checked: Heroku's "Enhanced Certificates"). A
 * loopback or unix-socket server gets no TLS unless the URL asks for it. `sslmode` is taken out
 * of the URL because node-postgres lets a connection string's sslmode replace the `ssl`
 * object (node-postgres.com/features/ssl).
 */

import { H13Error } from '../core/errors.js';

export interface PgConnection {
  readonly connectionString: string;
  readonly ssl: false | { rejectUnauthorized: boolean };
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1', '']);

export function pgConnection(databaseUrl: string): PgConnection {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new H13Error('H13_ERR_INVALID_OPTION', 'DATABASE_URL is not a URL', {
      field: 'databaseUrl',
    });
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    throw new H13Error(
      'H13_ERR_INVALID_OPTION',
      `DATABASE_URL must start with postgres:// or postgresql://, not ${url.protocol}//`,
      { field: 'databaseUrl' },
    );
  const mode = url.searchParams.get('sslmode');
  url.searchParams.delete('sslmode');
  const local = LOOPBACK.has(url.hostname) || url.searchParams.get('host')?.startsWith('/');
  let ssl: PgConnection['ssl'];
  switch (mode) {
    case 'disable':
      ssl = false;
      break;
    case 'verify-full':
    case 'verify-ca':
      ssl = { rejectUnauthorized: true };
      break;
    case 'require':
    case 'prefer':
    case 'allow':
    case 'no-verify':
      ssl = { rejectUnauthorized: false };
      break;
    case null:
      ssl = local ? false : { rejectUnauthorized: false };
      break;
    default:
      throw new H13Error(
        'H13_ERR_INVALID_OPTION',
        `DATABASE_URL: unknown sslmode ${JSON.stringify(mode)} (disable, require, no-verify, verify-full)`,
        { field: 'databaseUrl' },
      );
  }
  return { connectionString: url.toString(), ssl };
}

/** The URL without its password, for logs and errors. */
export function redactedUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return '(not a URL)';
  }
}
