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
import type { RouterRecord } from '../core/router-line.js';
import {
  createByteHead,
  createByteTimestampReader,
  createNameTable,
  HEAD,
  readHead,
} from './byte-scan.js';
import { detach, parseGuardLine } from './evidence.js';
import { LIMITS } from './limits.js';
import {
  createScratch,
  displaySample,
  type InputFormat,
  parseHerokuAt,
  parseJsonLine,
  parsePapertrail,
  parsePapertrailTsv,
  parseSyslogFrame,
  type Scratch,
  splitFrames,
  stripAnsi,
} from './line-parse.js';
import { scanRouterMessage } from './router-scan.js';
import type { Timeline } from './timeline.js';
import { createTimestampReader } from './timestamp.js';
import type { InputStats } from './types.js';

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

export class LineReader {
  /** The latest log time seen: lines without a time of their own are placed there. */
  watermark = Number.NEGATIVE_INFINITY;
  private readonly ts = createTimestampReader();
  private readonly tsBytes = createByteTimestampReader();
  private readonly head = createByteHead();
  private readonly nameOf = createNameTable((name) => this.intern(name));
  private readonly scratch: Scratch = createScratch();
  private readonly names = new Map<string, string>();

  constructor(
    private readonly stats: InputStats,
    private readonly timeline: Timeline,
    private readonly sink: LineSink,
    /** Papertrail lines have no year: the year of this time is assumed. */
    private readonly nowMs: number,
  ) {}

  /** Complete lines separated by `\n` (a final line without `\n` is taken as complete). */
  pushText(text: string): void {
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
      if (kind === HEAD.routerInfo) {
        requests++;
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
        this.router(text, head.message - pos, text.length, 0, head.micros);
      } else {
        const text = buf.toString(encoding, pos, end);
        this.lineAt(text, 0, text.length);
      }
      pos = nl + 1;
    }
    stats.lines += requests;
    stats.records += requests;
    stats.parsed += requests;
    stats.formats.heroku += requests;
    stats.routerLines += requests;
  }

  /** A `heroku logs` line read from its bytes (other than a counted at=info line). */
  private herokuLine(micros: number): void {
    const stats = this.stats;
    stats.lines++;
    stats.records++;
    stats.parsed++;
    stats.formats.heroku++;
    this.seen(micros);
  }

  /** A line longer than the cap, skipped unread. `head` is its beginning, for the sample. */
  pushOversized(head: string, length: number): void {
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

  private lineAt(text: string, start: number, end: number): void {
    const stats = this.stats;
    stats.lines++;
    if (start === end) {
      stats.blank++;
      return;
    }
    stats.records++;
    const c0 = text.charCodeAt(start);
    if (c0 >= 48 && c0 <= 57 && end - start > 20 && text.charCodeAt(start + 4) === 45) {
      const s = this.scratch;
      const msg = parseHerokuAt(text, start, end, this.ts, s);
      if (msg >= 0) {
        stats.parsed++;
        stats.formats.heroku++;
        this.seen(s.micros);
        if (s.process === 'router' && s.source === 'heroku') {
          this.router(text, msg, end, start, s.micros);
        } else {
          this.entry(
            s.source,
            this.intern(s.process),
            s.micros,
            text.slice(start, end),
            msg - start,
          );
        }
        return;
      }
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

  /** Everything that is not a well-formed `heroku logs` line. */
  private slowLine(original: string): void {
    const line = original.includes('\u001b') ? stripAnsi(original) : original;
    const s = this.scratch;
    const c0 = line.charCodeAt(0);
    if (c0 >= 48 && c0 <= 57) {
      const msg = parseHerokuAt(line, 0, line.length, this.ts, s);
      if (msg >= 0) {
        this.stats.parsed++;
        this.stats.formats.heroku++;
        this.seen(s.micros);
        if (s.process === 'router' && s.source === 'heroku')
          this.router(line, msg, line.length, 0, s.micros);
        else this.entry(s.source, this.intern(s.process), s.micros, line, msg);
        return;
      }
      const framed = splitFrames(line);
      if (framed !== null) {
        this.stats.records += framed.frames.length - 1;
        this.stats.truncatedFrames += framed.truncated;
        for (const frame of framed.frames)
          this.parsedOrNot(frame, parseSyslogFrame(frame, this.ts, s));
        return;
      }
    }
    if (c0 === 60 /* < */) {
      this.parsedOrNot(line, parseSyslogFrame(line, this.ts, s));
      return;
    }
    if (c0 === 123 /* { */) {
      this.parsedOrNot(line, parseJsonLine(line, this.ts, s));
      return;
    }
    if (
      parsePapertrail(line, this.nowMs, s) ||
      (line.includes('\t') && parsePapertrailTsv(line, this.ts, s))
    ) {
      this.parsedOrNot(line, true);
      return;
    }
    // The guard's own line, read from the app's stderr rather than through heroku logs.
    if (line.startsWith('at=') && parseGuardLine(line) !== null) {
      s.format = 'heroku';
      s.micros = Number.isFinite(this.watermark) ? this.watermark : Number.NaN;
      s.source = 'app';
      s.process = 'guard';
      s.message = line;
      this.parsedOrNot(line, true);
      return;
    }
    this.unparsed(line);
  }

  /** A line in another format, parsed into the scratch object (or not). */
  private parsedOrNot(line: string, ok: boolean): void {
    if (!ok) {
      this.unparsed(line);
      return;
    }
    const s = this.scratch;
    this.stats.parsed++;
    this.stats.formats[s.format as InputFormat]++;
    if (!Number.isNaN(s.micros)) this.seen(s.micros);
    if (s.source === 'heroku' && s.process === 'router') {
      this.router(s.message, 0, s.message.length, -1, s.micros);
      return;
    }
    // Shown as a `heroku logs` line whatever the input format, so reports read the same.
    const micros = Number.isNaN(s.micros) ? 0 : s.micros;
    const prefix = `${formatTimestamp(micros)} ${s.source}[${s.process}]: `;
    this.entry(s.source, this.intern(s.process), s.micros, prefix + s.message, prefix.length);
  }

  /** A decoded router line; `lineStart` is -1 when the line must be rebuilt (other formats). */
  private router(text: string, msg: number, end: number, lineStart: number, micros: number): void {
    this.stats.routerLines++;
    // A plain request; `at=info code=H80` (H81, H82) is an info-level error and goes on.
    if (text.startsWith('at=info ', msg) && !text.startsWith('code=', msg + 8)) {
      this.timeline.addRequest(micros);
      return;
    }
    // Copied out of the chunk: the record's fields are kept (samples, group keys) and must
    // not keep the whole input chunk alive with them.
    const message = detach(text.slice(msg, end), 16_384);
    const r = scanRouterMessage(message);
    this.timeline.addRequest(micros);
    if (r === null || r.code === null) return;
    const line =
      lineStart >= 0
        ? text.slice(lineStart, end)
        : `${formatTimestamp(Number.isNaN(micros) ? 0 : micros)} heroku[router]: ${message}`;
    // The dyno's name as the app lines spell it (one string): compared with every piece of
    // evidence's process, which is then a pointer compare.
    const dyno = r.dyno === null ? null : this.intern(r.dyno);
    this.sink.routerError(dyno === r.dyno ? r : { ...r, dyno }, micros, line);
  }
}
