/**
 * An app server's access-log line pasted alone, without a `heroku logs` head (an issue that
 * quotes the app's log next to the router's): common/combined log format, morgan, Rails,
 * lograge, pino-http (access-line.ts). Its dyno is unknown, so it is read as an app line of
 * no named process and matched to router errors by method and path (and time, when it has
 * one) alone.
 *
 * Tried after `bare`: a router message alone (`method=GET path=/x ... status=503`) is the
 * router's, never an access line.
 */

import { parseAccessLine } from '../access-line.js';
import type { LineFormat } from './format.js';

/** The process name of a line whose dyno is unknown. */
export const UNNAMED_PROCESS = '';

export const accessFormat: LineFormat = {
  id: 'access',
  title: "an app server's access-log line alone",
  example:
    '10.1.2.3 - - [29/Mar/2020:19:37:30 +0000] "POST /api/upload HTTP/1.1" 503 299 "-" "curl/8"',
  notes:
    'Common/combined log format (Apache and nginx of the PHP buildpack, gunicorn, uvicorn, morgan `combined`), morgan `dev`/`tiny`/`short`, Rails `Started GET "/x" for ... at ...`, lograge `method= path= status=` and pino-http JSON, pasted without a log head. The dyno is unknown: it is matched to a router error by method and path (and by time when both have one). Its own time (`[29/Mar/2020:19:37:30 +0000]`) is used; else it is placed like a bare line.',
  sniff: (line) => line.includes('/'),
  parse(line, _ctx, out, emit) {
    const a = parseAccessLine(line);
    if (a === null) return 0;
    out.format = 'access';
    out.micros = a.micros;
    out.source = 'app';
    out.process = UNNAMED_PROCESS;
    out.message = line;
    emit(out);
    return 1;
  },
};
