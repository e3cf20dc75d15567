/**
 * Every way the demo makes Heroku's router log an error, with the fix. The index page, the
 * docs and the tests all read this table.
 */

export interface Scenario {
  readonly path: string;
  /** The H-code Heroku's router logs for it. */
  readonly code: string;
  readonly does: string;
  readonly fix: string;
  /** Whether it ends the process (so tests give it a process of its own). */
  readonly crashes: boolean;
}

export const SCENARIOS = [
  {
    path: '/',
    code: '-',
    does: 'Answers 200 with this page.',
    fix: 'Nothing to fix.',
    crashes: false,
  },
  {
    path: '/destroy',
    code: 'H13',
    does: 'Calls req.socket.destroy() before writing any response.',
    fix: 'Always answer: send an error status instead of destroying the socket.',
    crashes: false,
  },
  {
    path: '/throw',
    code: 'H13',
    does: 'Throws inside the handler: the process dies and every in-flight request loses its socket.',
    fix: 'Catch errors per request; on a real crash answer in-flight requests (500/503) and exit after draining (h13 guard).',
    crashes: true,
  },
  {
    path: '/reject',
    code: 'H13',
    does: 'Leaves a promise rejection unhandled, which is fatal since Node 15.',
    fix: 'Await and catch promises in handlers; the guard answers what is in flight before exiting.',
    crashes: true,
  },
  {
    path: '/exit',
    code: 'H13',
    does: 'Calls process.exit(1) mid-request: H13 for the request, then H10 while the dyno is down.',
    fix: 'Never exit with requests in flight: close the server, drain, then exit.',
    crashes: true,
  },
  {
    path: '/partial',
    code: 'H18',
    does: 'Writes the head and part of a Content-Length body, then destroys the socket.',
    fix: 'Finish every response you start; stream errors must end the response cleanly.',
    crashes: false,
  },
  {
    path: '/slow?ms=35000',
    code: 'H12',
    does: 'Answers after ms milliseconds; past 30 s the router gives up.',
    fix: 'Move slow work to a background worker and answer within 30 s.',
    crashes: false,
  },
  {
    path: '/stall',
    code: 'H15',
    does: 'Sends the head and a few bytes, then nothing: the router cuts it after 55 s idle.',
    fix: 'Keep streaming responses moving (send a byte at least every 55 s) or end them.',
    crashes: false,
  },
  {
    path: '/bad-response',
    code: 'H17',
    does: 'Writes a status line without a status code straight to the socket.',
    fix: 'Let the HTTP library write responses; never write raw bytes to the socket.',
    crashes: false,
  },
  {
    path: '/huge-cookie',
    code: 'H25',
    does: 'Sets a Set-Cookie header line over 8192 bytes.',
    fix: 'Keep cookies small; store session data server-side.',
    crashes: false,
  },
  {
    path: '/socket-timeout',
    code: 'H13',
    does: 'Sets a socket timeout with no timeout listener, so Node destroys the socket without answering.',
    fix: 'Handle timeouts by answering (503/504), or leave server.timeout at 0 behind a router.',
    crashes: false,
  },
  {
    path: '/upload',
    code: '-',
    does: 'Reads a request body and answers with its size.',
    fix: 'Nothing to fix.',
    crashes: false,
  },
  {
    path: '/upload?reject-early=1',
    code: 'H18',
    does: 'Answers 413 and closes before reading the body; a large upload gets a reset.',
    fix: 'Read (or drain) the body before answering, or reject on Content-Length at the edge.',
    crashes: false,
  },
] as const satisfies readonly Scenario[];

export const CLIENT_ERROR_MODES = {
  default: "Node's own behaviour: no clientError listener, Node answers 400/408/413/431.",
  destroy: 'A clientError listener that only destroys the socket: every bad request is an H13.',
  answer: "The seed's fix: the listener answers 400 with a body and closes.",
} as const;

export type ClientErrorMode = keyof typeof CLIENT_ERROR_MODES;
