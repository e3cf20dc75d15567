/**
 * Every cause the analyzer can name, with what it means and how to fix it. The diagnosis
 * rules (diagnose.ts) pick one id per router error; the reports and docs/analyze.md read the
 * text from here, so the advice is written once.
 */

export type Confidence = 'high' | 'medium' | 'low';

export interface CauseInfo {
  readonly title: string;
  /** What happened, in one or two sentences. */
  readonly explain: string;
  readonly fix: string;
  /** The h13 guard feature that prevents it, or null when the guard cannot help. */
  readonly guard: string | null;
  /** Client-side noise: counted apart from the errors the app must fix. */
  readonly noise?: boolean;
}

const GUARD = {
  crash: 'h13 guard crash handling (answers in-flight requests 500/503 before exiting)',
  shutdown:
    'h13 guard shutdown handling (SIGTERM drain, late-request window, deadline before exit)',
  keepAlive:
    "h13 guard keep-alive profile 'heroku' (keepAliveTimeout 95 s, headersTimeout above it)",
  clientError: 'h13 guard clientError answering (400/431 instead of a silent destroy)',
  steps: 'h13 guard request ids and step logging (logs the H13 with its cause and stack)',
} as const;

export const CAUSES = {
  'guard-reported': {
    title: 'reported by the h13 guard',
    explain:
      'The guard logged this request closing without a response, with its cause and the step it was at.',
    fix: "Follow the guard line's cause and step; the stack points at the code that dropped the response.",
    guard: GUARD.steps,
  },
  'app-crash': {
    title: 'the app process crashed with the request in flight',
    explain:
      'An uncaught exception, unhandled rejection or process.exit ended the process; every request it was serving lost its connection.',
    fix: 'Catch errors per request (async handlers: await and catch); on a fatal error answer what is in flight, then exit.',
    guard: GUARD.crash,
  },
  'out-of-memory': {
    title: 'the dyno ran out of memory',
    explain:
      'R14/R15 or a JavaScript heap out-of-memory error: the process was killed or died with requests in flight.',
    fix: 'Find the leak or the large allocation; set --max-old-space-size below the dyno size; use a larger dyno.',
    guard: GUARD.crash,
  },
  'app-error': {
    title: 'an error was logged on the dyno during the request',
    explain:
      'A stack trace or error appeared on the same dyno inside the request window, without the process exiting: the error path destroyed the socket or never answered.',
    fix: 'Make every error path answer (500) instead of destroying the socket or leaving the response open.',
    guard: GUARD.steps,
  },
  'worker-timeout': {
    title: 'the app server killed a worker that took too long',
    explain:
      "gunicorn's WORKER TIMEOUT, unicorn's timeout or puma's timed-out worker killed the worker serving the request; the router sees a close without response whatever the language.",
    fix: 'Make the request faster or move the work to a background job; keep the worker timeout above 30 s only if the router would time out first (H12 is clearer than H13).',
    guard: null,
  },
  'handler-never-answered': {
    title: 'the handler never answered',
    explain:
      'The request reached the app and the log shows why no answer came: an error logged when it arrived, a database connection that failed while the process stayed up, an access-log line without a status. The error path ended without sending a response, so the router waited and gave up.',
    fix: 'Answer on every error path: catch errors in the handler (async handlers: await and catch) and send a 500/503; fail the process (or its health check) when a dependency it needs is down instead of accepting requests it cannot serve.',
    guard: GUARD.steps,
  },
  'main-process-exit': {
    title: "the dyno's main process exited on SIGTERM before the app finished",
    explain:
      "The dyno's main process is a launcher (npm start, a yarn script, a shell) that exits on SIGTERM at once instead of waiting for the app; the dyno manager then kills the rest of the process group, so the app is killed mid-drain with requests in flight.",
    fix: 'Start the app directly in the Procfile (web: node server.js, not npm start or sh -c), or exec it from the script, so SIGTERM reaches the app and the dyno lives until it has drained.',
    guard: GUARD.shutdown,
  },
  'worker-died': {
    title: 'a worker process died with the request in flight',
    explain:
      'A worker or child process (a cluster worker, a gunicorn/uvicorn/puma worker) was killed by a signal or died while serving the request: "terminated due to signal 9", "Child process died", a segfault.',
    fix: "Find what killed the worker (memory: see R14/R15 and the platform's metrics; a native crash: the module that segfaulted); have the primary answer or retry what the worker held.",
    guard: GUARD.crash,
  },
  'deploy-race': {
    title: 'deploy or config change: requests routed to a stopping dyno',
    explain:
      'A release, deploy, scale or config change restarted the dynos; the router still sent requests to a dyno after SIGTERM and the process exited (or closed connections) without answering them.',
    fix: 'On SIGTERM keep answering what arrives for a few seconds, close the listener, drain in-flight requests, then exit before the 30 s SIGKILL.',
    guard: GUARD.shutdown,
  },
  'restart-race': {
    title: 'dyno restart: requests routed to a stopping dyno',
    explain:
      'The dyno was restarted (daily cycling, ps:restart, a crash restart); it got SIGTERM and exited with requests in flight or arriving.',
    fix: 'On SIGTERM keep answering what arrives for a few seconds, close the listener, drain in-flight requests, then exit before the 30 s SIGKILL.',
    guard: GUARD.shutdown,
  },
  'boot-failure': {
    title: 'the app failed to boot',
    explain:
      'The web process crashed while starting or did not bind $PORT within 60 s (R10); the router has no dyno to send requests to.',
    fix: 'Read the boot output before the crash: bind to process.env.PORT on 0.0.0.0 quickly, move slow startup work after listen.',
    guard: null,
  },
  'crashed-dyno': {
    title: 'the web dynos are crashed',
    explain:
      'Every web dyno is crashed (exited and waiting to be restarted); the router answers H10 until one is up again.',
    fix: 'Fix the crash shown by the stack trace before the exit; Heroku restarts crashed dynos with a growing back-off.',
    guard: GUARD.crash,
  },
  'keep-alive-race': {
    title: 'keep-alive race between Router 2.0 and Node',
    explain:
      'Router 2.0 keeps idle connections to the dyno for 90 s; Node closes idle keep-alive sockets after 5 s. A request sent on a socket Node is closing gets no response. Signature: no app evidence, a short service time, protocol http1.1, often POSTs.',
    fix: 'Set server.keepAliveTimeout to 95 s and server.headersTimeout above it.',
    guard: GUARD.keepAlive,
  },
  'bad-client': {
    title: "a request Node's parser rejected",
    explain:
      'The router forwarded a request Node could not parse (odd method or path); a clientError listener that only destroys the socket, or no answer, gives H13.',
    fix: 'Let Node answer bad requests (no clientError listener), or make the listener write a 400 before closing.',
    guard: GUARD.clientError,
  },
  'socket-timeout': {
    title: 'the app closed an idle request (socket or server timeout)',
    explain:
      'No app evidence and the connection was closed after a while with nothing written: a socket timeout (server.timeout, socket.setTimeout, a proxy timeout) destroyed it without answering.',
    fix: 'Answer on timeout (503/504) instead of destroying the socket, or leave server.timeout at 0 behind the 30 s router timeout.',
    guard: GUARD.steps,
  },
  'silent-close': {
    title: 'the app closed the connection without answering',
    explain:
      'No crash or restart near the request: the app (or a library) destroyed the socket without answering, e.g. req.socket.destroy() or res.destroy().',
    fix: 'Always answer: send an error status instead of destroying the socket. Turn on request ids and step logging to see where.',
    guard: GUARD.steps,
  },
  'partial-response': {
    title: 'the app closed the connection in the middle of its response',
    explain:
      'The response had started (bytes were sent) when the connection closed: a stream error, res.destroy() or a crash mid-body.',
    fix: 'Finish every response you start; on a stream error end the response cleanly (and log it).',
    guard: GUARD.steps,
  },
  'slow-request': {
    title: 'the app took more than 30 s to answer',
    explain:
      'No response byte within 30 s: a slow query, an external call without a timeout, or a queue behind a busy process.',
    fix: 'Add timeouts to external calls, move slow work to a background worker, answer within 30 s.',
    guard: null,
  },
  'router-code': {
    title: 'router or platform error (see the code)',
    explain:
      'An error the router or the platform raises from what it saw: the code names the cause.',
    fix: "Read the code's description in docs/codes.md.",
    guard: null,
  },
  'client-side': {
    title: 'client side: the client went away or stopped sending',
    explain:
      'H27/H28 (sock=client): the client closed the connection or stalled its upload. Not a server fault; counted apart.',
    fix: 'Nothing to fix on the server unless the counts are large (slow responses make clients give up).',
    guard: null,
    noise: true,
  },
  unknown: {
    title: 'unknown: the logs hold no evidence',
    explain:
      'Nothing in the logs read explains this request: the router line is all there is. The reason names what its signature would fit, as a hint, not a finding.',
    fix: 'Turn on request ids and step logging so the next one names its cause; widen the logs (heroku logs -n 1500 or a drain).',
    guard: GUARD.steps,
  },
} as const satisfies Record<string, CauseInfo>;

export type CauseId = keyof typeof CAUSES;

export const CAUSE_IDS = Object.keys(CAUSES) as CauseId[];

/** Fix advice for codes that have a single reason of their own (diagnosed as 'router-code'). */
export const CODE_FIXES: Readonly<Record<string, string>> = {
  H11: 'Too many requests waiting: add dynos or make requests faster.',
  H14: 'Scale the web process up: heroku ps:scale web=1.',
  H15: 'Keep streaming responses moving (a byte at least every 55 s) or end them.',
  H17: 'Let the HTTP library write responses; never write raw bytes to the socket.',
  H19: 'The dyno did not accept the connection within 5 s: the process is blocked (busy event loop) or overloaded.',
  H20: 'The app took over 75 s to boot: bind $PORT sooner.',
  H21: 'The dyno refused the connection: the process is not listening on $PORT (crashed or restarting).',
  H22: 'Too many client connections: reduce long-lived connections.',
  H24: 'The router shut down during the request; retry.',
  H25: 'Fix the response: valid Content-Length, Set-Cookie under 8 KB, small headers.',
  H26: 'The request had an unsupported Expect or a bad header/chunk: a client problem.',
  H80: 'The app is in maintenance mode: heroku maintenance:off.',
  H81: 'Nothing was deployed: deploy the app.',
  H82: 'The free dyno hours are used up.',
  H99: 'A platform error: check status.heroku.com; not the app.',
  R12: 'The process did not exit within 30 s of SIGTERM and was killed: finish the drain sooner, close what keeps the event loop alive.',
  R13: 'A one-off dyno (heroku run) could not attach: retry; check the network between you and Heroku.',
  L10: 'The log drain (or heroku logs --tail) fell behind and logplex dropped lines: log less, or use a faster drain.',
};

export function isNoise(cause: CauseId): boolean {
  return (CAUSES[cause] as CauseInfo).noise === true;
}
