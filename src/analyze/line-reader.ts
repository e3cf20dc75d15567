/**
 * Line dispatch: input lines (bytes or text, any supported format, in any mix) to what they
 * are — a router request to count, a router error, a platform line, an app line — with the
 * input statistics kept on the way. What a line means is the sink's business.
 *
 * The hot path (a `heroku logs` router line at=info) is read from the input bytes
 * (byte-scan.ts) and allocates nothing; any other line is decoded on its own, so a kept line
 * is a string of its own and never pins the input chunk.
 */

import { isAscii } from 'node:buffer';
import { formatTimestamp } from '../core/heroku-log.js';
import { parseRouterMessage, type RouterRecord } from '../core/router-line.js';
import {
  createByteHead,
  createByteTimestampReader,
  createNameTable,
  HEAD,
  readHead,
} from './byte-scan.js';
import { detach } from './evidence.js';
import { FORMATS, type FormatContext } from './formats/index.js';
import { LIMITS } from './limits.js';
import {
  createScratch,
  displaySample,
  parseHerokuAt,
  type Scratch,
  stripAnsi,
} from './line-parse.js';
import type { RouteCounts } from './route-counts.js';
import type { Timeline } from './timeline.js';
import { createTimestampReader, syslogMicros } from './timestamp.js';
import { type InputStats, UNTIMED_US } from './types.js';

/** Where lines go once read. `offset` is where the message starts inside `raw`. */
export interface LineSink {
  routerError(r: RouterRecord, micros: number, line: string): void;
  /** `heroku[PROCESS]` lines other than the router's. */
  platformLine(process: string, micros: number, raw: string, offset: number): void;
  /**
   * Any other source. `plainHead`: the head is known to be `TIMESTAMP app[PROCESS]: ` with
   * an ASCII process name (read from the bytes), see lineHasId in ring.ts.
   */
  appLine(process: string, micros: number, raw: string, offset: number, plainHead: boolean): void;
}

/** The timestamp a rebuilt line starts with (none for a line placed without a time). */
function stamp(micros: number): string {
  return micros >= UNTIMED_US ? `${formatTimestamp(micros)} ` : '';
}

/** A terminal's width: a router line cut at exactly this many characters was hard-wrapped. */
const HARD_WRAP_WIDTH = 80;

/** A line that continues a wrapped router line: the next `key=value` of it. */
const CONTINUATION = /^[a-z_]{2,20}=/;
/** A full date in the input, for the year of lines that carry none (Papertrail). */
const FULL_DATE = /\b((?:19|20)\d\d)-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)/;

/** Whether a router message ends inside a quoted value (an odd number of unescaped quotes). */
function endsInQuote(m: string): boolean {
  let open = false;
  for (let i = 0; i < m.length; i++) {
    const c = m.charCodeAt(i);
    if (c === 92 /* \ */ && open) i++;
    else if (c === 34) open = !open;
  }
  return open;
}

/** A router line cut short, held while the next lines may be the rest of it. */
interface Held {
  message: string;
  line: string;
  /**
   * The line was exactly a terminal's width: a hard wrap that may cut inside a word, so the
   * next lines are joined as they are, without a space, whatever their shape.
   */
  readonly hard: boolean;
  readonly micros: number;
  readonly format: string;
  readonly wall: number;
}

export class LineReader {
  /** The latest log time seen: lines without a time of their own are placed there. */
  watermark = Number.NEGATIVE_INFINITY;
  private readonly ts = createTimestampReader();
  private readonly tsBytes = createByteTimestampReader();
  private readonly head = createByteHead();
  private readonly nameOf = createNameTable((name) => this.intern(name));
  private readonly scratch: Scratch = createScratch();
  private readonly names = new Map<string, string>();
  /** Lines without a time before any time was read: placed in input order from here (µs). */
  private untimedClock = 0;
  /** Epoch ms of the first full date in the input (NaN: none, undefined: not looked yet). */
  private dateHint: number | undefined;
  private held: Held | null = null;
  private readonly context: FormatContext;
  private readonly emit = (s: Scratch) => this.record(s);
  private readonly cut = { frames: 0 };

  constructor(
    private readonly stats: InputStats,
    private readonly timeline: Timeline,
    private readonly routes: RouteCounts,
    private readonly sink: LineSink,
    /** Papertrail lines have no year: with nothing else to go by, the year of this time. */
    private readonly nowMs: number,
  ) {
    this.context = {
      ts: this.ts,
      yearless: (month, day, time) => this.yearless(month, day, time),
    };
  }

  /** Complete lines separated by `\n` (a final line without `\n` is taken as complete). */
  pushText(text: string): void {
    if (this.dateHint === undefined) this.lookForDate(text.slice(0, 65_536));
    const n = text.length;
    let pos = 0;
    while (pos < n) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = n;
      let end = nl;
      if (end > pos && text.charCodeAt(end - 1) === 13) end--;
      this.lineAt(text, pos, end);
      pos = nl + 1;
    }
  }

  /**
   * Complete lines in `buf[from, to)`, each ending at `\n` (a final line without one is taken
   * as complete). Router `at=info` lines are counted from the bytes; any other line is decoded
   * on its own.
   */
  pushBytes(buf: Buffer, from: number, to: number): void {
    if (this.dateHint === undefined)
      this.lookForDate(buf.toString('latin1', from, Math.min(to, from + 65_536)));
    const stats = this.stats;
    const ts = this.tsBytes;
    const head = this.head;
    // Router at=info lines are most lines: counted here, added to the stats once at the end
    // (nothing reads the stats while a chunk is being read).
    let requests = 0;
    // Bytes below 0x80 read the same as UTF-8 and as Latin-1, and Latin-1 decodes about
    // twice as fast per line: one check of the whole chunk picks the decoder for its lines.
    const encoding = isAscii(buf.subarray(from, to)) ? 'latin1' : 'utf8';
    let pos = from;
    while (pos < to) {
      let nl = buf.indexOf(10, pos);
      if (nl < 0 || nl > to) nl = to;
      let end = nl;
      if (end > pos && buf[end - 1] === 13) end--;
      const kind = pos === end ? HEAD.other : readHead(buf, pos, end, ts, head);
      // A headed line ends a wrapped router line held so far.
      if (kind !== HEAD.other && this.held !== null) this.release();
      if (kind === HEAD.routerInfo) {
        requests++;
        this.routes.countBytes(buf, head.message, end);
        this.seen(head.micros);
        this.timeline.addRequest(head.micros);
      } else if (pos === end) {
        stats.lines++;
        stats.blank++;
      } else if (kind === HEAD.entry) {
        this.herokuLine(head.micros);
        const process = this.nameOf(buf, head.processStart, head.processEnd);
        const raw = buf.toString(encoding, pos, end);
        if (head.platform) {
          stats.platformLines++;
          this.sink.platformLine(process, head.micros, raw, head.message - pos);
        } else {
          stats.appLines++;
          this.sink.appLine(process, head.micros, raw, head.message - pos, true);
        }
      } else if (kind === HEAD.routerOther) {
        // A router error: its head is read, so the string path need not read it again.
        this.herokuLine(head.micros);
        const text = buf.toString(encoding, pos, end);
        this.router(text, head.message - pos, text.length, 0, head.micros, 'heroku');
      } else {
        const text = buf.toString(encoding, pos, end);
        this.lineAt(text, 0, text.length);
      }
      pos = nl + 1;
    }
    stats.lines += requests;
    stats.records += requests;
    stats.parsed += requests;
    (stats.formats.heroku as number) += requests;
    stats.routerLines += requests;
  }

  /** End of input (or, following a file, a quiet moment): a held router line is let go. */
  flush(): void {
    if (this.held !== null) this.release();
  }

  /** Follow mode: a router line held for its continuation longer than this is let go. */
  flushWall(nowWall: number): void {
    if (this.held !== null && nowWall - this.held.wall > 1000) this.release();
  }

  /** A `heroku logs` line read from its bytes (other than a counted at=info line). */
  private herokuLine(micros: number): void {
    const stats = this.stats;
    stats.lines++;
    stats.records++;
    stats.parsed++;
    (stats.formats.heroku as number)++;
    this.seen(micros);
  }

  /** A line longer than the cap, skipped unread. `head` is its beginning, for the sample. */
  pushOversized(head: string, length: number): void {
    if (this.held !== null) this.release();
    this.stats.lines++;
    this.stats.records++;
    this.stats.oversized++;
    this.unparsed(`${head.slice(0, 80)}`, ` [oversized line: ${length} bytes, skipped]`);
  }

  private unparsed(line: string, note = ''): void {
    this.stats.unparsed++;
    if (this.stats.unparsedSamples.length < LIMITS.unparsedSamples)
      this.stats.unparsedSamples.push(detach(displaySample(line, 160) + note));
  }

  private lineAt(text: string, from: number, end: number): void {
    const stats = this.stats;
    stats.lines++;
    let start = from;
    if (start === end) {
      stats.blank++;
      return;
    }
    // A UTF-8 byte-order mark (a file saved by an editor) is not part of the line.
    if (text.charCodeAt(start) === 0xfeff) start++;
    stats.records++;
    const c0 = text.charCodeAt(start);
    const s = this.scratch;
    const msg =
      c0 >= 48 && c0 <= 57 && end - start > 20 && text.charCodeAt(start + 4) === 45
        ? parseHerokuAt(text, start, end, this.ts, s)
        : -1;
    if (this.held !== null) {
      // A headed line ends the held one, as on the byte path; anything else may continue it.
      if (msg < 0 && this.continueHeld(text.slice(start, end))) return;
      this.release();
    }
    if (msg >= 0) {
      stats.parsed++;
      (stats.formats.heroku as number)++;
      this.seen(s.micros);
      if (s.process === 'router' && s.source === 'heroku') {
        this.router(text, msg, end, start, s.micros, 'heroku');
      } else {
        this.entry(s.source, this.intern(s.process), s.micros, text.slice(start, end), msg - start);
      }
      return;
    }
    this.slowLine(text.slice(start, end));
  }

  /**
   * Process names are kept (ring keys, evidence): a slice of the input would keep its whole
   * chunk alive, so each name is copied once and reused.
   */
  private intern(name: string): string {
    const known = this.names.get(name);
    if (known !== undefined) return known;
    const copy = detach(name, 64);
    if (this.names.size < 4096) this.names.set(copy, copy);
    return copy;
  }

  private seen(micros: number): void {
    if (micros > this.watermark) this.watermark = micros;
    const stats = this.stats;
    if (!(micros >= stats.firstMicros)) stats.firstMicros = micros;
    if (!(micros <= stats.lastMicros)) stats.lastMicros = micros;
  }

  /**
   * The time of a line: its own, else the latest time read, else (no time read yet: a paste
   * without timestamps) its place in the input, a millisecond per line, below UNTIMED_US.
   */
  private placed(micros: number): number {
    if (!Number.isNaN(micros)) return micros;
    if (Number.isFinite(this.watermark)) return this.watermark;
    this.stats.untimed++;
    if (this.untimedClock < UNTIMED_US - 1000) this.untimedClock += 1000;
    return this.untimedClock;
  }

  /** Any line that is not a router line, decoded. */
  private entry(source: string, process: string, micros: number, raw: string, offset: number) {
    if (source === 'heroku') {
      this.stats.platformLines++;
      this.sink.platformLine(process, micros, raw, offset);
    } else {
      this.stats.appLines++;
      this.sink.appLine(process, micros, raw, offset, false);
    }
  }

  /** Everything that is not a well-formed `heroku logs` line: the formats, in their order. */
  private slowLine(original: string): void {
    const line = original.includes('\u001b') ? stripAnsi(original) : original;
    const s = this.scratch;
    for (const format of FORMATS) {
      if (!format.sniff(line)) continue;
      const before = this.cut.frames;
      const n = format.parse(line, this.context, s, this.emit, this.cut);
      if (n === 0) continue;
      this.stats.records += n - 1;
      this.stats.truncatedFrames += this.cut.frames - before;
      return;
    }
    this.unparsed(line);
  }

  /** One record a format read (source '': a record it could not read, e.g. a bad frame). */
  private record(s: Scratch): void {
    if (s.source === '') {
      this.unparsed(s.message);
      return;
    }
    this.stats.parsed++;
    this.stats.formats[s.format] = (this.stats.formats[s.format] ?? 0) + 1;
    if (!Number.isNaN(s.micros)) this.seen(s.micros);
    const micros = this.placed(s.micros);
    if (s.source === 'heroku' && s.process === 'router') {
      this.router(s.message, 0, s.message.length, -1, micros, s.format);
      return;
    }
    // Shown as a `heroku logs` line whatever the input format, so reports read the same.
    // A line of no named process (an access line pasted alone) keeps its own text.
    const prefix = s.process === '' ? stamp(micros) : `${stamp(micros)}${s.source}[${s.process}]: `;
    this.entry(s.source, this.intern(s.process), micros, prefix + s.message, prefix.length);
  }

  /** A decoded router line; `lineStart` is -1 when the line must be rebuilt (other formats). */
  private router(
    text: string,
    msg: number,
    end: number,
    lineStart: number,
    micros: number,
    format: string,
  ): void {
    this.stats.routerLines++;
    // A plain request; `at=info code=H80` (H81, H82) is an info-level error and goes on.
    if (text.startsWith('at=info ', msg) && !text.startsWith('code=', msg + 8)) {
      this.timeline.addRequest(micros);
      const b = Buffer.from(text.slice(msg + 8, end), 'latin1');
      this.routes.countBytes(b, 0, b.length);
      return;
    }
    // Copied out of the chunk: the record's fields are kept (samples, group keys) and must
    // not keep the whole input chunk alive with them.
    const message = detach(text.slice(msg, end), 16_384);
    const line =
      lineStart >= 0 ? text.slice(lineStart, end) : `${stamp(micros)}heroku[router]: ${message}`;
    const r = parseRouterMessage(message);
    if (r?.cut === true) {
      // Cut short: the next lines may be the rest of it (a paste that wrapped the line).
      const hard = lineStart >= 0 && end - lineStart === HARD_WRAP_WIDTH;
      this.held = { message, line: detach(line, 16_384), micros, format, wall: Date.now(), hard };
      return;
    }
    this.routerRecord(r, line, micros);
  }

  /** `piece` (a physical line) as the rest of the held router line, when it is that. */
  private continueHeld(piece: string): boolean {
    const held = this.held as Held;
    const rest = held.hard ? piece : piece.trim();
    if (
      !held.hard &&
      !CONTINUATION.test(rest) &&
      !(endsInQuote(held.message) && rest.includes('"'))
    )
      return false;
    if (held.message.length + rest.length > 16_384) return false;
    const sep = held.hard ? '' : ' ';
    held.message = `${held.message}${sep}${rest}`;
    held.line = `${held.line}${sep}${rest}`;
    this.stats.parsed++;
    this.stats.formats[held.format] = (this.stats.formats[held.format] ?? 0) + 1;
    this.stats.joinedLines++;
    const r = parseRouterMessage(held.message);
    if (r !== null && r.cut !== true) {
      this.held = null;
      this.routerRecord(r, held.line, held.micros);
    }
    return true;
  }

  /** The held router line, as far as it went. */
  private release(): void {
    const held = this.held as Held;
    this.held = null;
    this.routerRecord(parseRouterMessage(held.message), held.line, held.micros);
  }

  private routerRecord(r: RouterRecord | null, line: string, micros: number): void {
    this.timeline.addRequest(micros);
    if (r === null) return;
    // A router error's request is counted under its route when it is decided (the diagnosis
    // has its route already); another line that parsed is counted here.
    if (r.code === null) {
      if (r.path !== '') this.routes.countPath(r.path);
      return;
    }
    if (r.cut === true) this.stats.cutLines++;
    // The dyno's name as the app lines spell it (one string): compared with every piece of
    // evidence's process, which is then a pointer compare.
    const dyno = r.dyno === null ? null : this.intern(r.dyno);
    this.sink.routerError(dyno === r.dyno ? r : { ...r, dyno }, micros, line);
  }

  /** The first full date of the input: the year of lines without one, until times are read. */
  private lookForDate(text: string): void {
    const m = FULL_DATE.exec(text);
    this.dateHint =
      m === null
        ? Number.NaN
        : Date.UTC(
            Number(m[1]),
            Number(m[2]) - 1,
            Number(m[3]),
            Number(m[4]),
            Number(m[5]),
            Number(m[6]),
          );
  }

  /** A time without a year: the year nearest the log's own time, else the current one. */
  private yearless(month: string, day: number, time: string): number {
    if (this.watermark >= UNTIMED_US)
      return syslogMicros(month, day, time, this.watermark / 1000, true);
    if (this.dateHint !== undefined && !Number.isNaN(this.dateHint))
      return syslogMicros(month, day, time, this.dateHint, true);
    return syslogMicros(month, day, time, this.nowMs, false);
  }
}
