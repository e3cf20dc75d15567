/**
 * Collects the lines of one request body with their facts, counting and sampling what is
 * wrong with them (counters.ts). Shared by every ingest format.
 */

import { isUtf8 } from 'node:buffer';
import { quoteValue } from '../core/logfmt.js';
import type { CounterName } from './counters.js';
import { factsOfRecord, factsOfText } from './line-facts.js';
import type { BadSample, IngestLine, PlatformError } from './store.js';
import { herokuLines, type LogRecord } from './syslog-line.js';

/** Characters of a bad input kept as its sample. */
const SAMPLE_CHARS = 200;
/** Samples kept per request (the store keeps the latest few per app). */
const SAMPLES_PER_BODY = 5;
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export interface ParsedBody {
  readonly lines: IngestLine[];
  readonly platformErrors: PlatformError[];
  readonly counters: Partial<Record<CounterName, number>>;
  readonly samples: BadSample[];
}

export class BodyLines implements ParsedBody {
  readonly lines: IngestLine[] = [];
  readonly platformErrors: PlatformError[] = [];
  readonly counters: Partial<Record<CounterName, number>> = {};
  readonly samples: BadSample[] = [];

  constructor(private readonly maxLineBytes: number) {}

  count(kind: CounterName, n = 1): void {
    this.counters[kind] = (this.counters[kind] ?? 0) + n;
  }

  /** Counts a problem and keeps its beginning, escaped, as a sample. */
  problem(kind: CounterName, text: string): void {
    this.count(kind);
    if (this.samples.length < SAMPLES_PER_BODY)
      this.samples.push({ kind, sample: quoteValue(text.slice(0, SAMPLE_CHARS)) });
  }

  /** The bytes as text: cut to the line cap, decoded, with invalid UTF-8 counted. */
  decode(body: Buffer, start: number, end: number, bodyIsUtf8: boolean): string {
    let e = end;
    if (e - start > this.maxLineBytes) {
      e = start + this.maxLineBytes;
      this.problem('oversized-line', body.toString('utf8', start, start + SAMPLE_CHARS));
    }
    const text = body.toString('utf8', start, e);
    if (!bodyIsUtf8 && !isUtf8(body.subarray(start, e))) this.problem('invalid-utf8', text);
    if (CONTROL.test(text)) this.problem('binary-line', text);
    return text;
  }

  /** A line in any format, kept as it came. */
  addText(text: string): void {
    this.lines.push(factsOfText(text, this.platformErrors));
  }

  /** A record read from a frame, as `heroku logs` lines. */
  addRecord(r: LogRecord): void {
    for (const text of herokuLines(r)) this.lines.push(factsOfRecord(text, r, this.platformErrors));
  }
}
