/**
 * Input bytes for the analyzer: files and named pipes (`<(heroku logs)`), gzip detected by its
 * magic bytes rather than the name, and stdin. Files are read into two reused buffers; see
 * openInput for why.
 */

import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip, constants as zlibConstants } from 'node:zlib';

/** Bytes per read: big enough that per-chunk costs vanish, small enough to stay out of the way. */
const CHUNK_BYTES = 256 * 1024;

export interface Input {
  /**
   * The file's bytes, gunzipped when they start with 1f 8b. A plain file's chunks are views
   * of two buffers read in turn (gzip input is read into fresh ones, since zlib holds on to
   * what it is given): a chunk is valid only until the next one is asked for, so a
   * consumer copies what it keeps (the feeder copies the carried line; the analyzer keeps
   * decoded strings only).
   */
  readonly chunks: AsyncIterable<Buffer>;
  /** Bytes in the file; 0 when it is not a regular file (a pipe, `<(heroku logs)`). */
  readonly size: number;
  /** Bytes read from the file so far (compressed bytes for gzip), for a progress bar. */
  position(): number;
}

/**
 * Opens a file (or a named pipe) for the analyzer; throws when it cannot be opened. The first
 * chunk decides gzip, so a pipe works as well as a file: nothing is read twice.
 *
 * Why not createReadStream: on the 1M-line benchmark log, two reused buffers with one read
 * always in flight took the analyzer from 367 to 334 ms (docs/analyze.md, Performance, sixth
 * session); the stream allocates a fresh buffer per read and passes each through its
 * machinery. Synchronous reads were as fast (326 ms) but would stall the event loop on a pipe
 * that has nothing to say yet, which `--follow` and its wall-clock flushes cannot afford.
 */
export async function openInput(path: string): Promise<Input> {
  const handle = await open(path, 'r');
  let size: number;
  try {
    const info = await handle.stat();
    size = info.isFile() ? info.size : 0;
  } catch (err) {
    await handle.close();
    throw err;
  }
  const counter = { bytes: 0 };
  return { chunks: readChunks(handle, counter), size, position: () => counter.bytes };
}

/** What the reader needs of a FileHandle (tests hand in their own). */
export interface ByteSource {
  read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: null,
  ): Promise<{ readonly bytesRead: number }>;
  close(): Promise<void>;
}

/**
 * The source's bytes as chunks (see Input.chunks), gunzipped when they start with 1f 8b;
 * `counter.bytes` counts the bytes read. Once the first chunk is asked for, the source is
 * closed when the chunks end, fail or are abandoned.
 */
export async function* readChunks(
  handle: ByteSource,
  counter: { bytes: number } = { bytes: 0 },
): AsyncGenerator<Buffer> {
  try {
    const head = Buffer.allocUnsafeSlow(CHUNK_BYTES);
    let filled = await readInto(handle, head, 0, counter);
    // Two bytes decide gzip, and a pipe may hand over its first byte alone.
    if (filled === 1 && head[0] === 0x1f) filled += await readInto(handle, head, 1, counter);
    if (filled === 0) return;
    if (isGzip(head, filled)) {
      // zlib holds on to what it is given until it has inflated it: fresh buffers only.
      yield* gunzipped(freshChunks(handle, head.subarray(0, filled), counter));
      return;
    }
    yield* reusedChunks(handle, head, filled, counter);
  } finally {
    await handle.close();
  }
}

/** One buffer is out with the consumer while the next read fills the other. */
async function* reusedChunks(
  handle: ByteSource,
  first: Buffer,
  firstFilled: number,
  counter: { bytes: number },
): AsyncGenerator<Buffer> {
  let out = first;
  let filled = firstFilled;
  let spare: Buffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  let ahead: Promise<number> | undefined;
  try {
    for (;;) {
      ahead = readInto(handle, spare, 0, counter);
      // Its failure is seen when awaited below; until then it must not count as unhandled.
      ahead.catch(ignore);
      yield filled === out.length ? out : out.subarray(0, filled);
      filled = await ahead;
      ahead = undefined;
      if (filled === 0) return;
      const consumed = out;
      out = spare;
      spare = consumed;
    }
  } finally {
    // A consumer that stopped early: the read in flight settles (and its failure is dropped)
    // before the source is closed. A FileHandle would wait anyway; a ByteSource need not.
    if (ahead !== undefined) await ahead.catch(ignore);
  }
}

async function* freshChunks(
  handle: ByteSource,
  first: Buffer,
  counter: { bytes: number },
): AsyncGenerator<Buffer> {
  yield first;
  for (;;) {
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    const filled = await readInto(handle, buf, 0, counter);
    if (filled === 0) return;
    yield filled === buf.length ? buf : buf.subarray(0, filled);
  }
}

async function readInto(
  handle: ByteSource,
  buf: Buffer,
  from: number,
  counter: { bytes: number },
): Promise<number> {
  const { bytesRead } = await handle.read(buf, from, buf.length - from, null);
  counter.bytes += bytesRead;
  return bytesRead;
}

function ignore(): void {}

/** gzip's magic bytes, among the `filled` bytes actually read (the rest may be stale memory). */
function isGzip(head: Buffer, filled: number): boolean {
  return filled >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Input that ended before its end: what came before it was read and handed on. */
export class TruncatedInputError extends Error {}

/**
 * Inflates a byte source, with backpressure both ways; its read errors end the output too.
 * A gzip stream cut short is inflated as far as it goes (SYNC_FLUSH at the end keeps zlib from
 * dropping what it holds) and then reported by its size trailer, which no longer matches;
 * trailing garbage ends the output with zlib's error. Either way every chunk inflated before
 * is handed on first, then a TruncatedInputError says why the rest is missing.
 */
async function* gunzipped(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const gunzip = createGunzip({ finishFlush: zlibConstants.Z_SYNC_FLUSH });
  // The last 4 compressed bytes: a complete (single-member) stream ends with its size mod 2^32.
  const tail = Buffer.alloc(4);
  let tailBytes = 0;
  const raw = Readable.from(
    (async function* () {
      for await (const chunk of source) {
        keepTail(tail, chunk, tailBytes);
        tailBytes += chunk.length;
        yield chunk;
      }
    })(),
  );
  raw.on('error', (err) => gunzip.destroy(err));
  let inflated = 0;
  try {
    for await (const chunk of raw.pipe(gunzip)) {
      inflated += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR')
      throw new TruncatedInputError(
        `gzip data broken after ${inflated} bytes inflated (${(err as Error).message})`,
      );
    throw err;
  }
  if (tailBytes >= 18 && tail.readUInt32LE(0) !== inflated % 2 ** 32)
    throw new TruncatedInputError(
      `gzip data ends early: ${inflated} bytes inflated, its trailer is missing`,
    );
}

/** The last 4 bytes seen so far, with `chunk` appended to `seen` bytes before it. */
function keepTail(tail: Buffer, chunk: Buffer, seen: number): void {
  if (chunk.length >= 4) {
    chunk.copy(tail, 0, chunk.length - 4);
    return;
  }
  const keep = Math.min(4 - chunk.length, seen);
  tail.copy(tail, 0, 4 - keep, 4);
  chunk.copy(tail, keep);
}

/**
 * stdin may be gzip too (`heroku logs` saved compressed and piped): the first chunk decides.
 * Backpressure is kept both ways (pipe into gunzip, async iteration out).
 */
export async function* decodedChunks(source: Readable): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done === true) return;
  let head = toBuffer(first.value);
  if (head.length === 1 && head[0] === 0x1f) {
    // A pipe may hand over its first byte alone: the second decides gzip.
    const second = await it.next();
    if (second.done !== true) head = Buffer.concat([head, toBuffer(second.value)]);
  }
  const rest = async function* (): AsyncGenerator<Buffer> {
    yield head;
    for (;;) {
      const next = await it.next();
      if (next.done === true) return;
      yield toBuffer(next.value);
    }
  };
  if (isGzip(head, head.length)) yield* gunzipped(rest());
  else yield* rest();
}

function toBuffer(chunk: unknown): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
}
