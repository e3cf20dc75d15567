/**
 * Chunks to the analyzer (read-chunks.ts reads them), as bytes: the line reader finds the
 * lines and decodes only those it needs. This module carries, as a copy, the line a chunk
 * boundary cuts, and skips a line longer than the cap in bounded memory: its first bytes are
 * kept for the report, the rest discarded until the next newline.
 */

import type { Analyzer } from './analyzer.js';

/** Heroku's logplex cuts lines at 10 KB; 64 KiB leaves room for drain bodies of several frames. */
export const MAX_LINE_BYTES = 64 * 1024;
const HEAD_KEPT = 200;

export interface Feeder {
  /** Bytes in; complete lines go to the analyzer. */
  write(chunk: Buffer): void;
  /** End of input: the last line, even without a newline. */
  end(): void;
  /**
   * Stop without the last line (a followed file whose writer is mid-line): the bytes carried
   * are dropped unread; returns how many.
   */
  discard(): number;
}

export function createFeeder(analyzer: Analyzer, maxLine: number = MAX_LINE_BYTES): Feeder {
  let carry: Buffer | null = null;
  /** Skipping the rest of an oversized line: its length so far and its head. */
  let skipping = false;
  let skippedBytes = 0;
  let skippedHead = '';

  const oversizedDone = () => {
    analyzer.pushOversized(skippedHead, skippedBytes);
    skipping = false;
    skippedBytes = 0;
    skippedHead = '';
  };

  return {
    write(chunk) {
      analyzer.stats.bytes += chunk.length;
      let start = 0;
      if (skipping) {
        const nl = chunk.indexOf(10);
        if (nl < 0) {
          skippedBytes += chunk.length;
          return;
        }
        skippedBytes += nl;
        oversizedDone();
        start = nl + 1;
      }
      const last = chunk.lastIndexOf(10);
      if (last < start) {
        // No newline in this chunk: it all belongs to the carried line.
        const rest = chunk.subarray(start);
        const size = (carry?.length ?? 0) + rest.length;
        if (size > maxLine) {
          skipping = true;
          skippedHead = Buffer.concat([carry ?? Buffer.alloc(0), rest.subarray(0, HEAD_KEPT)])
            .subarray(0, HEAD_KEPT)
            .toString('utf8');
          skippedBytes = size;
          carry = null;
        } else {
          carry = carry === null ? Buffer.from(rest) : Buffer.concat([carry, rest]);
        }
        return;
      }
      if (carry !== null) {
        const nl = chunk.indexOf(10, start);
        const size = carry.length + (nl - start);
        if (size > maxLine) {
          skippedHead = carry.subarray(0, HEAD_KEPT).toString('utf8');
          skippedBytes = size;
          oversizedDone();
        } else {
          const line = Buffer.concat([carry, chunk.subarray(start, nl + 1)]);
          analyzer.pushBytes(line, 0, line.length);
        }
        carry = null;
        start = nl + 1;
      }
      if (start <= last) pushBounded(chunk, start, last + 1);
      if (last + 1 < chunk.length) {
        const rest = chunk.subarray(last + 1);
        if (rest.length > maxLine) {
          skipping = true;
          skippedHead = rest.subarray(0, HEAD_KEPT).toString('utf8');
          skippedBytes = rest.length;
        } else carry = Buffer.from(rest);
      }
    },
    end() {
      if (skipping) oversizedDone();
      if (carry !== null && carry.length > 0) analyzer.pushBytes(carry, 0, carry.length);
      carry = null;
    },
    discard() {
      const n = (carry?.length ?? 0) + (skipping ? skippedBytes : 0);
      carry = null;
      skipping = false;
      skippedBytes = 0;
      skippedHead = '';
      return n;
    },
  };

  /** Complete lines in chunk[from, to); oversized ones inside the chunk are skipped too. */
  function pushBounded(chunk: Buffer, from: number, to: number): void {
    if (to - from <= maxLine) {
      analyzer.pushBytes(chunk, from, to);
      return;
    }
    // A big chunk: find lines over the cap and cut around them. The line at `pos` is within
    // the cap when a newline lies in [pos, pos + maxLine], and so is every line up to the
    // last such newline: one backward search skips up to maxLine bytes of lines (the analyzer
    // finds each line end itself; finding them all here too cost a tenth of a run).
    let segStart = from;
    let pos = from;
    while (to - pos > maxLine) {
      const last = chunk.lastIndexOf(10, pos + maxLine);
      if (last >= pos) {
        pos = last + 1;
        continue;
      }
      let nl = chunk.indexOf(10, pos + maxLine);
      if (nl < 0 || nl >= to) nl = to - 1;
      if (segStart < pos) analyzer.pushBytes(chunk, segStart, pos);
      analyzer.pushOversized(chunk.toString('utf8', pos, pos + HEAD_KEPT), nl - pos);
      segStart = nl + 1;
      pos = nl + 1;
    }
    if (segStart < to) analyzer.pushBytes(chunk, segStart, to);
  }
}

/** Reads chunks to the end through the feeder; `onChunk` (a progress bar) runs after each. */
export async function drain(
  chunks: AsyncIterable<Buffer>,
  feeder: Feeder,
  onChunk?: () => void,
): Promise<void> {
  for await (const chunk of chunks) {
    feeder.write(chunk);
    onChunk?.();
  }
  feeder.end();
}
