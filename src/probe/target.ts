/** Where the probe sends traffic: the address the user named, or the app it spawned. */

import net from 'node:net';

export interface ProbeTarget {
  readonly host: string;
  readonly port: number;
  /** The Host header value (host[:port]). */
  readonly hostHeader: string;
  /** The request target of normal requests (the URL's path and query). */
  readonly path: string;
}

/** A plain GET for the target, optionally asking the server to close after it. */
export function plainRequest(target: ProbeTarget, close = false): Buffer {
  return Buffer.from(
    `GET ${target.path} HTTP/1.1\r\nHost: ${target.hostHeader}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`,
    'latin1',
  );
}

/** Resolves true once a TCP connection to the target is accepted, false on error or timeout. */
export function canConnect(target: ProbeTarget, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.host, port: target.port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
