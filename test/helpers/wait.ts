/**
 * Bounded waits for tests: every wait has a deadline and says what it was waiting for.
 * Tests wait on events, never on fixed sleeps.
 */

import type { EventEmitter } from 'node:events';

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export function once<T = unknown[]>(emitter: EventEmitter, event: string, ms: number): Promise<T> {
  return withTimeout(
    new Promise<T>((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args as T))),
    ms,
    `'${event}'`,
  );
}

/** Poll a condition (for state only observable by asking) until true, bounded. */
export async function until(
  check: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (await check()) return;
    if (Date.now() - started > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Everything `socket` delivers until at least `n` bytes have come, bounded. A paused socket
 * stays paused: attach first, then resume it.
 */
export function receiveBytes(
  socket: EventEmitter,
  n: number,
  ms: number,
  what: string,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  let received = 0;
  return withTimeout(
    new Promise<Buffer>((resolve) => {
      socket.on('data', (d: Buffer) => {
        parts.push(d);
        received += d.length;
        if (received >= n) resolve(Buffer.concat(parts));
      });
    }),
    ms,
    what,
  );
}
