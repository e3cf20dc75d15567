/**
 * Helpers for the guard's tests: an in-process guarded server whose lines are collected,
 * raw requests, and reading logfmt lines back.
 */

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseLogfmt } from '../../src/core/logfmt.js';
import { type GuardOptions, guard } from '../../src/guard/index.js';
import { type ExchangeResult, exchange } from '../../src/http/raw-exchange.js';
import { withTimeout } from '../helpers/wait.js';

export interface Guarded {
  readonly server: http.Server;
  readonly port: number;
  readonly lines: string[];
  /** The first line (already written or future) matching `pattern`, parsed. */
  waitLine(pattern: RegExp, ms?: number): Promise<Record<string, string>>;
  get(path: string, extra?: string, timeoutMs?: number): Promise<ExchangeResult>;
  raw(bytes: string | Buffer, timeoutMs?: number): Promise<ExchangeResult>;
  close(): Promise<void>;
}

/** In-process tests never install signal or crash handlers in the test runner. */
export const IN_PROCESS: GuardOptions = { signals: false, crash: false, exit: false };

export function fields(line: string): Record<string, string> {
  return Object.fromEntries(parseLogfmt(line));
}

export async function startGuarded(
  handler: http.RequestListener,
  options: GuardOptions = {},
  configure?: (server: http.Server) => void,
): Promise<Guarded> {
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  const server = http.createServer(handler);
  configure?.(server);
  guard(server, {
    ...IN_PROCESS,
    ...options,
    log: (line) => {
      lines.push(line);
      for (const w of waiters.splice(0)) w();
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const raw = (bytes: string | Buffer, timeoutMs = 3000) =>
    exchange({ host: '127.0.0.1', port, bytes, timeoutMs });
  return {
    server,
    port,
    lines,
    waitLine(pattern, ms = 3000) {
      return withTimeout(
        new Promise<Record<string, string>>((resolve) => {
          const check = () => {
            const hit = lines.find((l) => pattern.test(l));
            if (hit !== undefined) resolve(fields(hit));
            else waiters.push(check);
          };
          check();
        }),
        ms,
        `a guard line matching ${pattern}; lines so far:\n${lines.join('\n')}`,
      );
    },
    get: (path, extra = '', timeoutMs = 3000) =>
      raw(`GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`, timeoutMs),
    raw,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function header(result: ExchangeResult, name: string): string | undefined {
  const lower = name.toLowerCase();
  return result.head?.headers.find(([k]) => k.toLowerCase() === lower)?.[1];
}

/** GET on a fresh connection through node:http, resolved with status, headers and body. */
export function httpGet(
  url: string,
  headers: Record<string, string> = {},
  agent?: http.Agent,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Steady keep-alive traffic to `url + path` until stop() resolves; keeps statuses and bodies. */
export function load(url: string, path: string, clients: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  let running = true;
  const statuses: number[] = [];
  const bodies = new Map<string, number>();
  const loops = Array.from({ length: clients }, async () => {
    while (running) {
      const r = await httpGet(`${url}${path}`, {}, agent).catch(() => null);
      if (r === null) continue;
      statuses.push(r.status);
      const key = `${r.status} ${r.body}`;
      bodies.set(key, (bodies.get(key) ?? 0) + 1);
    }
  });
  return {
    statuses,
    /** "status body" → how many times it was received. */
    bodies,
    async stop() {
      running = false;
      await withTimeout(Promise.all(loops), 15_000, 'load loops to end');
      agent.destroy();
    },
  };
}
