import { H13Error } from '../core/errors.js';

export interface Target {
  readonly host: string;
  readonly port: number;
  readonly hostHeader: string;
  readonly path: string;
}

/** Parse the URL the user named; only http:// (h13 talks to the app, not to TLS terminators). */
export function parseTarget(text: string): Target {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new H13Error(
      'H13_ERR_INVALID_URL',
      `${JSON.stringify(text)} is not a URL (example: http://127.0.0.1:3000/)`,
    );
  }
  if (url.protocol !== 'http:') {
    throw new H13Error(
      'H13_ERR_INVALID_URL',
      `${JSON.stringify(text)}: only http:// URLs are supported`,
    );
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    host,
    port: url.port === '' ? 80 : Number(url.port),
    hostHeader: url.host,
    path: url.pathname + url.search,
  };
}
