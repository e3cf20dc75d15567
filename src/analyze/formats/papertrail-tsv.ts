/**
 * Papertrail's archive TSV: id, generated_at, received_at, source_id, source_name,
 * source_ip, facility, severity, program (`heroku/router`, `app/web.1`), message.
 */

import type { LineFormat } from './format.js';

const TSV_TIME = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d(?:\.\d+)?) ?(Z|[+-]\d\d:?\d\d)?$/;

export const papertrailTsvFormat: LineFormat = {
  id: 'papertrail-tsv',
  title: "Papertrail's archive TSV",
  example:
    '7001\t2026-03-02 10:15:05\t2026-03-02 10:15:05\t42\tmyapp\t1.2.3.4\tLocal7\tInfo\theroku/router\tat=error code=H13 ...',
  notes: 'Ten tab-separated columns; `program` is `heroku/router` or `app/web.1`.',
  sniff: (line) => line.includes('\t'),
  parse(line, ctx, out, emit) {
    const cols = line.split('\t');
    if (cols.length < 10) return 0;
    const program = cols[8] as string;
    const slash = program.indexOf('/');
    if (slash <= 0) return 0;
    const t = TSV_TIME.exec(cols[1] as string);
    if (t === null) return 0;
    let zone = t[3] ?? 'Z';
    if (zone.length === 5) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
    const stamp = `${t[1]}T${t[2]}${zone}`;
    const micros = ctx.ts.read(stamp, 0, stamp.length);
    if (Number.isNaN(micros)) return 0;
    out.format = 'papertrail-tsv';
    out.micros = micros;
    out.source = program.slice(0, slash);
    out.process = program.slice(slash + 1);
    out.message = cols.slice(9).join('\t');
    emit(out);
    return 1;
  },
};
