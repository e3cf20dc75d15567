/**
 * Router tests' common setup: a router in front of the fault app (or any table), every
 * record and log line it produces, and a bounded wait for the next record.
 */

import { createLogSink } from '../../src/core/log-sink.js';
import type { RouterRecord } from '../../src/core/router-line.js';
import { type ExchangeResult, exchange } from '../../src/http/raw-exchange.js';
import type { DynoTable } from '../../src/router/dynos.js';
import {
  type RouterHandle,
  type RouterOptions,
  startRouter,
  staticDynos,
} from '../../src/router/index.js';
import type { RouterTimers } from '../../src/router/options.js';
import { type FaultApp, startFaultApp } from '../fixtures/router-fault-app.js';
import { until, withTimeout } from '../helpers/wait.js';

/**
 * Short timers so every code is reached quickly, yet long enough that a loaded machine does
 * not make them fire in requests that expect no timeout.
 */
export const TEST_TIMERS: Partial<RouterTimers> = {
  connect: 2_000,
  firstByte: 500,
  idle: 500,
  clientHead: 1_000,
  bootQueue: 200,
  poolIdle: 10_000,
  quarantine: 1_000,
  lateRouting: 0,
};

export interface Harness {
  readonly router: RouterHandle;
  readonly app: FaultApp | null;
  readonly records: RouterRecord[];
  /** Messages of the `heroku[router]` lines, in order. */
  readonly lines: string[];
  /** The record number `index` (0-based), waiting for it (bounded). */
  record(index: number): Promise<RouterRecord>;
  /** Raw request to the router; resolves with how it ended. */
  send(
    bytes: string | Buffer,
    options?: { timeoutMs?: number; method?: string },
  ): Promise<ExchangeResult>;
  /**
   * Wait until no socket is open on either side of the router (`clientsOnly`: client side
   * only, for Router 2.0 tests whose pooled dyno connections stay for poolIdle).
   */
  drained(clientsOnly?: boolean): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(
  options: Partial<Omit<RouterOptions, 'timers'>> & {
    timers?: Partial<RouterTimers>;
    dynos?: DynoTable;
    noApp?: boolean;
  } = {},
): Promise<Harness> {
  const app = options.noApp === true || options.dynos !== undefined ? null : await startFaultApp();
  const records: RouterRecord[] = [];
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  const sink = createLogSink('heroku', {
    write: (text: string) => {
      const m = /heroku\[router\]: (.*)\n$/.exec(text);
      if (m !== null) lines.push(m[1] as string);
      return true;
    },
  } as unknown as NodeJS.WritableStream);
  const dynos =
    options.dynos ?? staticDynos(app === null ? [] : [{ host: '127.0.0.1', port: app.port }]);
  const router = await startRouter({
    ...options,
    dynos,
    timers: { ...TEST_TIMERS, ...options.timers },
    log: sink,
    onRecord: (r) => {
      records.push(r);
      for (const w of waiters.splice(0)) w();
    },
  });
  return {
    router,
    app,
    records,
    lines,
    record: (index) =>
      withTimeout(
        new Promise<RouterRecord>((resolve) => {
          const check = () => {
            const r = records[index];
            if (r !== undefined) resolve(r);
            else waiters.push(check);
          };
          check();
        }),
        5_000,
        `router record #${index}`,
      ),
    send: (bytes, o = {}) =>
      exchange({
        host: '127.0.0.1',
        port: router.port,
        bytes,
        timeoutMs: o.timeoutMs ?? 5_000,
        waitForClose: false,
        ...(o.method === undefined ? {} : { method: o.method }),
      }),
    drained: (clientsOnly = false) =>
      until(
        () => {
          const s = router.openSockets();
          return s.client === 0 && (clientsOnly || s.dyno === 0);
        },
        5_000,
        'router sockets to close',
      ),
    close: async () => {
      await router.close();
      await app?.close();
    },
  };
}

/**
 * The line with its run-dependent values (request id, timings) replaced by placeholders,
 * so a test can compare the whole line, field order and quoting included.
 */
export function shape(line: string): string {
  return line
    .replace(/request_id=[^ ]+/, 'request_id=ID')
    .replace(/connect=\d+ms/, 'connect=Nms')
    .replace(/service=\d+ms/, 'service=Nms');
}

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** Router 2.0's generated ids: UUID layout, every bit random (no version or variant). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function get(path: string, extra = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: app.test\r\n${extra}\r\n`;
}
