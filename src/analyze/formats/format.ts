/**
 * What an input format is to the line reader: a cheap `sniff` and a `parse` that reads a line
 * into records. formats/index.ts lists them in the one table the reader, the input stats,
 * `--help` and docs/analyze.md are derived from; a new format (an ALB access log, a Fir OTLP
 * export) is one module here, one row there, and its tests.
 */

import type { Scratch } from '../line-parse.js';
import type { TimestampReader } from '../timestamp.js';

/** What a format may ask of the reader while it parses. */
export interface FormatContext {
  readonly ts: TimestampReader;
  /**
   * A time without a year (`Mar  2 10:15:04`) as epoch microseconds: the year is inferred
   * from the rest of the log (see LineReader.yearless).
   */
  yearless(month: string, day: number, time: string): number;
}

export interface LineFormat {
  /** The key under `input.formats` in the report. */
  readonly id: string;
  /** One line for `--help` and the docs. */
  readonly title: string;
  /** A line in this format, as the docs show it. */
  readonly example: string;
  /** More for the docs: variants read, what is inferred. */
  readonly notes: string;
  /** Whether the line may be in this format: a cheap test before parse. */
  sniff(line: string): boolean;
  /**
   * Reads the records of `line`: for each, `out` is filled and `emit` called. Returns the
   * number of records (0: not this format, nothing emitted) and counts a record cut short
   * (a drain frame whose length runs past the line) in `cut.frames`.
   */
  parse(
    line: string,
    ctx: FormatContext,
    out: Scratch,
    emit: (out: Scratch) => void,
    cut: { frames: number },
  ): number;
}
