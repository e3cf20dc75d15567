/**
 * Syslog / logplex drain frames: `LEN <PRI>1 TIMESTAMP HOST APP PROC - MSG`, several per line
 * (an HTTPS drain body, with or without newlines between frames), one per line without a
 * length, or behind a log service's own timestamp (`23 Mar 2020 10:31:55.592394 <158>1 ...`,
 * as some services export them).
 */

import type { Scratch } from '../line-parse.js';
import type { TimestampReader } from '../timestamp.js';
import type { LineFormat } from './format.js';

const SYSLOG = /^<(\d{1,3})>(?:\d{1,2} )?(\S+) (\S+) (\S+) (\S+)(?: (\S+))?(?: (.*))?$/s;
const SOURCES = new Set(['heroku', 'app']);

/**
 * One RFC 5424-ish frame: `<PRI>1 TIMESTAMP HOST APP PROC - MESSAGE`. Logplex puts the drain
 * token in HOST on some drains and leaves APP/PROC as `heroku router` / `app web.1`; others
 * shift the fields. The source is the first of the three slots that says `heroku` or `app`.
 */
export function parseSyslogFrame(frame: string, ts: TimestampReader, out: Scratch): boolean {
  const m = SYSLOG.exec(frame);
  if (m === null) return false;
  const stamp = m[2] as string;
  const micros = ts.read(stamp, 0, stamp.length);
  if (Number.isNaN(micros)) return false;
  const slots = [m[3] as string, m[4] as string, m[5] as string, m[6] ?? ''];
  let at = -1;
  for (let k = 0; k < 3; k++) {
    if (SOURCES.has(slots[k] as string) && (slots[k + 1] as string) !== '') {
      at = k;
      break;
    }
  }
  if (at < 0) return false;
  out.format = 'syslog';
  out.micros = micros;
  out.source = slots[at] as string;
  out.process = slots[at + 1] as string;
  // Slots after PROC: the MSGID (`-`) is dropped; anything else belongs to the message.
  const after = slots.slice(at + 2).filter((s) => s !== '');
  if (after[0] === '-') after.shift();
  const rest = m[7];
  const words = rest === undefined ? after : [...after, rest];
  out.message = words.join(' ');
  return true;
}

/**
 * A line holding one or more octet-counted frames (`LEN <PRI>...`), as a syslog drain or a
 * logplex HTTPS body sends them, possibly with no newline between frames. Returns the frames
 * and whether the last one was cut short (its LEN runs past the line); null when the line
 * does not start with a frame.
 */
export function splitFrames(line: string): { frames: string[]; truncated: number } | null {
  const frames: string[] = [];
  let truncated = 0;
  let i = 0;
  const n = line.length;
  while (i < n) {
    let j = i;
    while (j < n && j - i < 8) {
      const c = line.charCodeAt(j);
      if (c < 48 || c > 57) break;
      j++;
    }
    if (j === i || line.charCodeAt(j) !== 32 || line.charCodeAt(j + 1) !== 60 /* < */) {
      if (frames.length === 0) return null;
      // What follows the last frame is not a frame: keep it as one (it will not parse).
      frames.push(line.slice(i));
      break;
    }
    const len = Number(line.slice(i, j));
    const bodyStart = j + 1;
    let bodyEnd = bodyStart + len;
    if (bodyEnd > n) {
      // LEN counts a trailing newline the line splitter removed: that is a whole frame.
      if (bodyEnd > n + 1) truncated++;
      bodyEnd = n;
    }
    let frame = line.slice(bodyStart, bodyEnd);
    if (frame.endsWith('\n')) frame = frame.slice(0, -1);
    frames.push(frame);
    i = bodyEnd;
    while (i < n && line.charCodeAt(i) === 32) i++;
  }
  return { frames, truncated };
}

/** A log service's prefix (its own time, up to 64 characters) before a frame without LEN. */
const PREFIXED = /^[^<]{1,64}? (?=<\d{1,3}>\d{1,2} \d{4}-)/;

export const syslogFormat: LineFormat = {
  id: 'syslog',
  title: 'syslog / logplex drain frames',
  example: '83 <158>1 2026-03-02T10:15:05.010002+00:00 host heroku router - at=error code=H13 ...',
  notes:
    "Octet-counted frames `LEN <PRI>1 TIMESTAMP HOST APP PROC - MSG`, several per line, with or without a newline between frames (HTTPS drain bodies), or one per line without a length, also behind a log service's own timestamp (`23 Mar 2020 10:31:55.592394 <158>1 2020-03-23T17:31:55.266210+00:00 heroku router - - at=...`: the frame's time is used). The drain token may sit in any of the HOST/APP slots: the source is the first slot that says `heroku` or `app`. A frame whose length runs past the data is counted as truncated and read as far as it goes.",
  sniff(line) {
    const c0 = line.charCodeAt(0);
    return (c0 >= 48 && c0 <= 57) || c0 === 60 || line.includes('<');
  },
  parse(line, ctx, out, emit, cut) {
    const c0 = line.charCodeAt(0);
    if (c0 === 60 /* < */) {
      if (!parseSyslogFrame(line, ctx.ts, out)) return 0;
      emit(out);
      return 1;
    }
    if (c0 >= 48 && c0 <= 57) {
      const framed = splitFrames(line);
      if (framed !== null) {
        cut.frames += framed.truncated;
        // Every frame is a record, read or not: a frame that does not parse is emitted as
        // unreadable (source '') so the counts still add up.
        for (const frame of framed.frames) {
          if (!parseSyslogFrame(frame, ctx.ts, out)) {
            out.format = 'syslog';
            out.source = '';
            out.message = frame;
          }
          emit(out);
        }
        return framed.frames.length;
      }
    }
    const prefix = PREFIXED.exec(line);
    if (prefix === null) return 0;
    if (!parseSyslogFrame(line.slice(prefix[0].length), ctx.ts, out)) return 0;
    emit(out);
    return 1;
  },
};
