/**
 * Papertrail's log viewer and CLI: `Mar  2 10:15:04 myapp heroku/router: at=...`. The lines
 * carry no year: it is inferred from the rest of the log (FormatContext.yearless). The
 * viewer's copy puts two spaces after `heroku/web.1:`; a platform message is read without
 * them, so `State changed ...` and `Error R14 ...` are seen for what they are.
 */

import type { LineFormat } from './format.js';

const PAPERTRAIL =
  /^([A-Z][a-z]{2}) +(\d{1,2}) (\d\d:\d\d:\d\d) (\S+) (heroku|app)\/([^:\s]+): ?(.*)$/s;

export const papertrailFormat: LineFormat = {
  id: 'papertrail',
  title: 'Papertrail (log viewer and CLI)',
  example: 'Mar  2 10:15:04 myapp heroku/router: at=error code=H13 ...',
  notes:
    "`Mar  2 10:15:04 host heroku/router: ...` and `app/web.1:`, with one space or the viewer's two after the colon. The year is inferred from the rest of the log (the first full date in the input, then the latest time read: the nearest year); with nothing to go by, the current one, or last year if that would be in the future.",
  sniff(line) {
    const c0 = line.charCodeAt(0);
    return c0 >= 65 && c0 <= 90;
  },
  parse(line, ctx, out, emit) {
    const m = PAPERTRAIL.exec(line);
    if (m === null) return 0;
    const micros = ctx.yearless(m[1] as string, Number(m[2]), m[3] as string);
    if (Number.isNaN(micros)) return 0;
    const source = m[5] as string;
    const message = m[7] as string;
    out.format = 'papertrail';
    out.micros = micros;
    out.source = source;
    out.process = m[6] as string;
    out.message = source === 'heroku' ? message.trimStart() : message;
    emit(out);
    return 1;
  },
};
