/**
 * Lines pasted from a dashboard, an issue or a log viewer that dropped part of the head:
 * `heroku[router]: at=...` or `myapp heroku/router at=...` without a timestamp (or with one
 * in another shape), and a router message alone (`at=error code=H13 desc="..." method=GET
 * ...`). A message alone is a router line when it reads as one, and the guard's line only
 * when it carries the guard's own marker (isGuardMessage): a router line pasted bare is
 * never taken for the guard's.
 *
 * Tried last. A line without a time of its own is placed at the latest time read.
 */

import { parseRouterMessage } from '../../core/router-line.js';
import { isGuardMessage } from '../evidence.js';
import type { LineFormat } from './format.js';

/** Up to three words (an app name, a date and a time), then `SOURCE[PROCESS]` or `SOURCE/PROCESS`. */
const HEADED =
  /^((?:[^\s[\]]{1,100} ){0,3}?)(heroku|app)(?:\[([^\]\s]{1,64})\]|\/([^\s:[\]]{1,64})):?(?: +|$)(.*)$/s;
/** A platform error without its head. */
const PLATFORM_ERROR = /^Error ([RL]1\d) \(/;
/** A date and time in front, in the shapes log viewers print (no zone: UTC). */
const LEAD_TIME = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d(?:\.\d{1,9})?)(Z|[+-]\d\d:?\d\d)? /;

export const bareFormat: LineFormat = {
  id: 'bare',
  title: 'pasted lines without the usual head',
  example: 'at=error code=H13 desc="Connection closed without response" method=GET path="/" ...',
  notes:
    "`heroku[router]: at=...` or `myapp heroku/router at=...` without a timestamp (or with a `YYYY-MM-DD HH:MM:SS` one), and a router message alone. A message alone is a router line when it reads as one, and the guard's line only when it carries the guard's own `elapsed=` field. Lines without a time are placed at the latest time read (or, before any, in input order).",
  sniff: () => true,
  parse(line, ctx, out, emit) {
    out.format = 'bare';
    out.micros = Number.NaN;
    const headed = HEADED.exec(line);
    if (headed !== null) {
      const lead = LEAD_TIME.exec(headed[1] as string);
      if (lead !== null) {
        let zone = lead[3] ?? 'Z';
        if (zone.length === 5) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
        const stamp = `${lead[1]}T${lead[2]}${zone}`;
        out.micros = ctx.ts.read(stamp, 0, stamp.length);
      }
      out.source = headed[2] as string;
      out.process = (headed[3] ?? headed[4]) as string;
      const message = headed[5] as string;
      out.message = out.source === 'heroku' ? message.trimStart() : message;
      emit(out);
      return 1;
    }
    const message = line.trimStart();
    const platform = PLATFORM_ERROR.exec(message);
    if (platform !== null) {
      // The platform's error alone (copied from a dashboard): logplex's L10, a dyno's R-error.
      out.source = 'heroku';
      out.process = platform[1] === 'L10' ? 'logplex' : 'dyno';
    } else if (isGuardMessage(message)) {
      out.source = 'app';
      out.process = 'guard';
    } else if (parseRouterMessage(message) !== null) {
      out.source = 'heroku';
      out.process = 'router';
    } else {
      return 0;
    }
    out.message = message;
    emit(out);
    return 1;
  },
};
