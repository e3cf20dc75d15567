/** Where the probe sends traffic: the address the user named, or the app it spawned. */

import type { Target } from '../cli/url-target.js';
import { accepts } from '../core/ports.js';

/** The URL the user named, as parsed by the CLI. */
export type ProbeTarget = Target;

/** A plain GET for the target, optionally asking the server to close after it. */
export function plainRequest(target: ProbeTarget, close = false): Buffer {
  return Buffer.from(
    `GET ${target.path} HTTP/1.1\r\nHost: ${target.hostHeader}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`,
    'latin1',
  );
}

/** Resolves true once a TCP connection to the target is accepted, false on error or timeout. */
export function canConnect(target: ProbeTarget, timeoutMs: number): Promise<boolean> {
  return accepts(target.host, target.port, timeoutMs);
}
