/**
 * The guard's log vocabulary: every `event=` and `cause=` value it writes, with its meaning.
 * The guard writes only these (src/guard/** imports them), `h13 analyze` reads guard lines
 * with the same names, and docs/guard.md carries the table rendered by renderGuardVocabulary()
 * (test/guard/vocabulary.test.ts fails when they differ).
 */

import { markdownCell } from './generated-docs.js';

export const GUARD_EVENTS = {
  start: 'The guard is active in this process: version, Node version and the options in force.',
  parent_process:
    'The process was started by npm (or yarn/pnpm), which exits on SIGTERM without waiting for the app: use `web: node …` or `exec` in the start script.',
  import_guard:
    '`--import h13/guard` was used: the guard registers itself as with `--import h13/register`.',
  answered: 'The guard answered in the app’s place (the router saw `status`, not an H13).',
  pre_request_close:
    'A socket that sent bytes was destroyed before any request was formed, with nothing written.',
  client_error: 'A request the HTTP parser rejected (`error=HPE_…`), or a client reset.',
  socket_error:
    'A socket was destroyed with an error by app or library code (`req.destroy(err)`, `socket.destroy(err)`), not by the parser.',
  step: 'A breadcrumb of a request (live, or written just before its failure line).',
  crash: 'An uncaught exception or unhandled rejection, with the request whose work threw it.',
  shutdown: 'The drain started (first signal, or `shutdown()`).',
  signal_ignored: 'A later signal while draining; it does not cut the drain.',
  app_close:
    'The app (or its shutdown library) closed a server or its connections during the drain; the guard closes them when it would.',
  app_exit:
    'The app called `process.exit()` during the drain; the process ends when the drain does, with the app’s exit code.',
  drain_deadline: 'The drain deadline was reached: unfinished requests answered 503 or cut.',
  hooks: 'An `onShutdown` hook failed or did not finish in time.',
  exit: 'The last line before the process exits (or before the guard leaves the exit to the app).',
  keep_alive:
    'A timeout the app or its framework set explicitly is below what the proxy needs; kept, with the fix.',
  config: '`drainTimeoutMs + hookTimeoutMs` does not fit in Heroku’s 30 s window.',
  worker_fork: '`h13/cluster`: a worker was forked.',
  worker_exit: '`h13/cluster`: a worker exited (and when it is restarted).',
  cluster_shutdown: '`h13/cluster`: the primary got a signal.',
  cluster_exit: '`h13/cluster`: the primary exits.',
} as const;

export type GuardEvent = keyof typeof GUARD_EVENTS;

export const GUARD_CAUSES = {
  app_destroy: 'App code called `destroy()` on the socket, request or response (see `stack`).',
  socket_timeout: 'A socket timeout (`server.timeout`, `socket.setTimeout`) nobody handled.',
  request_timeout: 'Node’s `requestTimeout`/`headersTimeout` fired.',
  server_close: '`closeAllConnections()`/`closeIdleConnections()` closed the socket.',
  connect_unhandled: 'A `CONNECT` or upgrade nobody handled.',
  client_error:
    'The socket closed because of a client error on it (an app `clientError` listener destroyed it while a response was owed).',
  crash: 'An uncaught exception or unhandled rejection.',
  shutdown: 'A request that came after the drain closed the door.',
  shutdown_deadline: 'The drain deadline cut a response.',
  client_reset: 'The client reset the connection.',
  client_aborted: 'The client left before its request was complete.',
  client_fin_after_request: 'The client sent FIN after a complete request (ambiguous).',
  unknown: 'None of the above could be told from the stack.',
} as const;

export type GuardCause = keyof typeof GUARD_CAUSES;

/** What the client received of a response the guard cut (`received=` on H18 lines). */
export const GUARD_RECEIVED = {
  nothing: 'No byte of the response left the process.',
  head: 'The status line and headers, no body byte.',
  partial_body: 'The head and part of the body; the connection then closed.',
} as const;

export type GuardReceived = keyof typeof GUARD_RECEIVED;

/** The log fields `h13 analyze` reads from a guard line. */
export const GUARD_FIELDS = {
  code: 'code',
  event: 'event',
  cause: 'cause',
  requestId: 'request_id',
  step: 'step',
  stack: 'stack',
  /** Only the guard writes it: what tells its request lines from the router's. */
  elapsed: 'elapsed',
  method: 'method',
  path: 'path',
} as const;

function names<T extends Record<string, string>>(table: T): { readonly [K in keyof T]: K } {
  return Object.fromEntries(Object.keys(table).map((k) => [k, k])) as { [K in keyof T]: K };
}

/** `EVENT.crash === 'crash'`: writers name values through these, never as literals. */
export const EVENT = names(GUARD_EVENTS);
export const CAUSE = names(GUARD_CAUSES);
export const RECEIVED = names(GUARD_RECEIVED);

/** docs/guard.md's generated part `guard-vocabulary` (scripts/render-docs.ts splices it in). */
export function renderGuardVocabulary(): string {
  const table = (head: string, rows: Readonly<Record<string, string>>) => [
    `| ${head} | meaning |`,
    '|---|---|',
    ...Object.entries(rows).map(([k, v]) => `| \`${k}\` | ${markdownCell(v)} |`),
  ];
  return [
    'Generated from `src/core/guard-vocabulary.ts`; `h13 analyze` reads the same table.',
    '',
    ...table('event=', GUARD_EVENTS),
    '',
    ...table('cause=', GUARD_CAUSES),
    '',
    ...table('received=', GUARD_RECEIVED),
  ].join('\n');
}
