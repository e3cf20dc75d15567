/**
 * `heroku logs` (and `h13 run --log-format heroku`): `TIMESTAMP SOURCE[PROCESS]: MESSAGE`.
 * The hot path reads most of these lines straight from the bytes (byte-scan.ts) and the rest
 * with parseHerokuAt on the decoded line; this module is the same reading for lines that
 * reach the slow path (colour codes stripped, a byte-order mark dropped).
 */

import { parseHerokuAt } from '../line-parse.js';
import type { LineFormat } from './format.js';

export const herokuFormat: LineFormat = {
  id: 'heroku',
  title: '`heroku logs` and `h13 run --log-format heroku`',
  example:
    '2026-03-02T10:15:05.010002+00:00 heroku[router]: at=error code=H13 desc="Connection closed without response" method=POST path="/orders" ...',
  notes:
    "Router lines of every era: current (`protocol=https`), before 2017 (no `protocol=`), before 2013 (no `request_id=`), unquoted paths, the pre-2012 `Error H12 (Request timeout) -> GET host/path dyno=...`, and Router 2.0 (`protocol=http1.1 tls=false`, `http2.0 tls=true`). Dyno names of both generations (`web.1`, Fir's `web-58f4b5c5d-abcde`). Terminal colour codes are stripped.",
  sniff: (line) => {
    const c0 = line.charCodeAt(0);
    return c0 >= 48 && c0 <= 57 && line.length > 20 && line.charCodeAt(4) === 45;
  },
  parse(line, ctx, out, emit) {
    const msg = parseHerokuAt(line, 0, line.length, ctx.ts, out);
    if (msg < 0) return 0;
    out.message = line.slice(msg);
    emit(out);
    return 1;
  },
};
