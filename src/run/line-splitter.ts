/**
 * A dyno's output as `app[web.N]` lines, in bounded memory:
 * - a line longer than `maxLine` characters is cut into pieces of at most `maxLine` (Heroku's
 *   logplex truncates long lines too), whether or not its newline came in the same chunk, so one
 *   runaway write cannot grow memory; a trailing partial line is flushed when the stream ends;
 * - when the reader of h13's output is slower than the app writes, the gate pauses every dyno's
 *   output streams until the reader has caught up (backpressure): the app's writes then wait in
 *   the pipe, as they would behind a slow terminal, and no line is dropped.
 */

import type { Readable } from 'node:stream';

export const MAX_LINE = 10_000;

export function lineSplitter(
  onLine: (line: string) => void,
  maxLine = MAX_LINE,
): { push(chunk: string): void; end(): void } {
  let partial = '';
  const emit = (line: string) => {
    for (let at = 0; at < line.length; at += maxLine) onLine(line.slice(at, at + maxLine));
    if (line.length === 0) onLine('');
  };
  return {
    push(chunk) {
      let start = 0;
      let nl = chunk.indexOf('\n');
      while (nl >= 0) {
        let line = partial + chunk.slice(start, nl);
        partial = '';
        if (line.endsWith('\r')) line = line.slice(0, -1);
        emit(line);
        start = nl + 1;
        nl = chunk.indexOf('\n', start);
      }
      partial += chunk.slice(start);
      // Keep at most one piece's worth: the rest of a long line is emitted as it comes.
      while (partial.length > maxLine) {
        onLine(partial.slice(0, maxLine));
        partial = partial.slice(maxLine);
      }
    },
    end() {
      if (partial !== '') onLine(partial);
      partial = '';
    },
  };
}

/** Pauses registered output streams while the destination needs to drain. */
export interface OutputGate {
  add(stream: Readable): void;
}

/** A gate on `out`: call `wrote()` after each write to it. */
export function outputGate(out: {
  readonly writableNeedDrain?: boolean;
  once(event: 'drain', listener: () => void): unknown;
}): OutputGate & { wrote(): void; readonly pauses: number } {
  const streams = new Set<Readable>();
  let paused = false;
  let pauses = 0;
  return {
    get pauses() {
      return pauses;
    },
    add(stream) {
      streams.add(stream);
      stream.once('close', () => streams.delete(stream));
      if (paused) stream.pause();
    },
    wrote() {
      if (paused || out.writableNeedDrain !== true) return;
      paused = true;
      pauses++;
      for (const s of streams) s.pause();
      out.once('drain', () => {
        paused = false;
        for (const s of streams) s.resume();
      });
    },
  };
}
