/**
 * A write target that gathers log lines and hands them to the real stream once per event-loop
 * turn. process.stdout writes to files and pipes synchronously, one system call per line;
 * under load that is a measurable share of a proxied request. Lines keep their order, and
 * everything pending is written before the process exits.
 */

import type { Writable } from 'node:stream';

/** Past this many pending bytes, flush at once instead of waiting for the turn to end. */
const MAX_PENDING = 64 * 1024;

export function bufferedLines(out: Pick<Writable, 'write'>): Pick<Writable, 'write'> & {
  flush(): void;
} {
  let pending = '';
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending === '') return;
    const text = pending;
    pending = '';
    // No backpressure to honour here: process.stdout/stderr write synchronously to files and
    // pipes on Linux, so pending never grows past MAX_PENDING plus one turn's lines.
    out.write(text);
  };
  process.on('exit', flush);
  return {
    write(chunk: unknown): boolean {
      pending += String(chunk);
      if (pending.length > MAX_PENDING) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
      return true;
    },
    flush,
  } as Pick<Writable, 'write'> & { flush(): void };
}
