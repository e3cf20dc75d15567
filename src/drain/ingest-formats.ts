/**
 * The bodies `h13 drain` reads, one entry each: which content types a format takes and how
 * its bytes become lines. The route table (routes.ts) names a format; a new input (OTLP logs
 * for Fir telemetry drains) is one more entry.
 */

import { isUtf8 } from 'node:buffer';
import { BodyLines, type ParsedBody } from './body-lines.js';
import { splitOctetFrames } from './octet-frames.js';
import { parseFrame } from './syslog-line.js';

export interface BodyMeta {
  /** Logplex-Msg-Count, when sent. */
  readonly msgCount: number | null;
}

export interface IngestFormat {
  readonly name: string;
  /** Content types read (lower case, no parameters), as shown in a 415 answer. */
  readonly contentTypes: readonly string[];
  /** Whether a request without Content-Type is read as this format. */
  readonly acceptsMissing: boolean;
  parse(body: Buffer, meta: BodyMeta, maxLineBytes: number): ParsedBody;
}

/**
 * Logplex HTTPS drains: `Content-Type: application/logplex-1`, a body of octet-counted
 * RFC 5424 frames (heroku/logplex doc/README.http_drains.md).
 */
export const LOGPLEX_FORMAT: IngestFormat = {
  name: 'logplex',
  contentTypes: ['application/logplex-1'],
  acceptsMissing: false,
  parse(body, meta, maxLineBytes) {
    const out = new BodyLines(maxLineBytes);
    const utf8 = isUtf8(body);
    const frames = splitOctetFrames(body, {
      frame(b, start, end) {
        const text = out.decode(b, start, end, utf8);
        const record = parseFrame(text);
        if (record === null) {
          out.problem('unreadable-frame', text);
          out.addText(text);
        } else out.addRecord(record);
      },
      problem(kind, b, start, end) {
        out.problem(kind, b.toString('utf8', start, Math.min(end, start + 200)));
        // A malformed chunk is not in any frame: it is kept as a line of its own.
        if (kind === 'malformed-frame') {
          const text = out.decode(b, start, end, utf8);
          if (text.trim() !== '') out.addText(text);
        }
      },
    });
    out.count('frames', frames);
    if (meta.msgCount !== null && meta.msgCount !== frames)
      out.problem(
        'msg-count-mismatch',
        `Logplex-Msg-Count: ${meta.msgCount}, frames read: ${frames}`,
      );
    return out;
  },
};

/**
 * `heroku logs` text (or any format `h13 analyze` reads), one line per `\n`. curl's
 * `--data-binary` sends application/x-www-form-urlencoded unless told otherwise, so that is
 * read as text too: `heroku logs -n 1500 | curl --data-binary @- URL` works as typed.
 */
export const TEXT_FORMAT: IngestFormat = {
  name: 'text',
  contentTypes: ['text/plain', 'application/octet-stream', 'application/x-www-form-urlencoded'],
  acceptsMissing: true,
  parse(body, _meta, maxLineBytes) {
    const out = new BodyLines(maxLineBytes);
    const utf8 = isUtf8(body);
    let pos = 0;
    while (pos < body.length) {
      let nl = body.indexOf(10, pos);
      if (nl < 0) nl = body.length;
      let end = nl;
      if (end > pos && body[end - 1] === 13) end--;
      if (end > pos) out.addText(out.decode(body, pos, end, utf8));
      pos = nl + 1;
    }
    return out;
  },
};

/** The media type of a Content-Type header, lower case, without parameters. */
export function mediaType(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const semi = header.indexOf(';');
  return (semi < 0 ? header : header.slice(0, semi)).trim().toLowerCase();
}

export function accepts(format: IngestFormat, header: string | undefined): boolean {
  const type = mediaType(header);
  return type === undefined || type === ''
    ? format.acceptsMissing
    : format.contentTypes.includes(type);
}
