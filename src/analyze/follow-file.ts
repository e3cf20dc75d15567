/**
 * `h13 analyze --follow FILE`: a growing file read like `tail -f`. What is in the file is
 * read, then the file is polled for more; a file that shrinks (truncated, or replaced by a
 * rotation) is read again from its start. Chunks end wherever the writer's last write ended:
 * the feeder carries a half-written last line until its newline comes, and at the stop it
 * is left unread (Feeder.discard), never analyzed as if it were whole.
 */

import { open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const CHUNK_BYTES = 256 * 1024;

/** The file's bytes as they are written, until `signal` aborts and what is written is read. */
export async function* followChunks(
  path: string,
  signal: AbortSignal,
  pollMs = 200,
): AsyncGenerator<Buffer> {
  let handle = await open(path, 'r');
  let inode = (await handle.stat()).ino;
  let position = 0;
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, position);
      if (bytesRead > 0) {
        position += bytesRead;
        // A copy: the consumer may still hold the last chunk when the next read fills buf.
        yield Buffer.from(buf.subarray(0, bytesRead));
        continue;
      }
      // Stopped: what was written up to now has been read; the follower ends here.
      if (signal.aborted) return;
      const now = await stat(path).catch(() => null);
      if (now !== null && (now.ino !== inode || now.size < position)) {
        // Rotated or truncated: start over on what is there now.
        await handle.close();
        handle = await open(path, 'r');
        inode = (await handle.stat()).ino;
        position = 0;
        continue;
      }
      await sleep(pollMs, undefined, { signal }).catch(() => undefined);
    }
  } finally {
    await handle.close();
  }
}
