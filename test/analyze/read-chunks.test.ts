import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Analyzer } from '../../src/analyze/analyzer.js';
import { createFeeder, drain } from '../../src/analyze/input.js';
import {
  type ByteSource,
  decodedChunks,
  openInput,
  readChunks,
} from '../../src/analyze/read-chunks.js';
import { buildReport } from '../../src/analyze/report.js';
import { withTimeout } from '../helpers/wait.js';
import { dataFile, NOW_2026, rng } from './analyze-helpers.js';

/** A source that hands out `data` in reads of the given sizes (cycled), and counts closes. */
function scriptedSource(data: Buffer, sizes: readonly number[]) {
  let pos = 0;
  let call = 0;
  const source = {
    closed: 0,
    reads: 0,
    read(buffer: Buffer, offset: number, length: number): Promise<{ bytesRead: number }> {
      source.reads++;
      const want = sizes[call++ % sizes.length] ?? length;
      const n = Math.min(want, length, data.length - pos);
      data.copy(buffer, offset, pos, pos + n);
      pos += n;
      return Promise.resolve({ bytesRead: n });
    },
    close(): Promise<void> {
      source.closed++;
      return Promise.resolve();
    },
  };
  return source satisfies ByteSource;
}

/** Every chunk copied as it comes: the reader reuses its buffers. */
async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const copies: Buffer[] = [];
  for await (const chunk of chunks) copies.push(Buffer.from(chunk));
  return Buffer.concat(copies);
}

/** Runs `body`, then a turn of the event loop, and fails on any rejection left unhandled. */
async function withoutUnhandledRejections(body: () => Promise<void>): Promise<void> {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    await body();
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
}

function logBytes(size: number): Buffer {
  const rand = rng(11);
  const lines: string[] = [];
  let total = 0;
  while (total < size) {
    const line = `2026-03-02T10:00:00.${String(lines.length % 1e6).padStart(6, '0')}+00:00 app[web.1]: ${'x'.repeat(Math.floor(rand() * 300))} é\n`;
    lines.push(line);
    total += Buffer.byteLength(line);
  }
  return Buffer.from(lines.join(''));
}

const dir = mkdtempSync(join(tmpdir(), 'h13-input-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('analyze input: reading files', () => {
  it('hands over every byte, whatever sizes the reads return', async () => {
    const data = logBytes(700_000);
    for (const sizes of [[1], [1, 5, 100_000], [262_144], [3, 262_144, 7]]) {
      // One-byte reads for the whole file would take 700 000 turns: only the head is scripted.
      const source = scriptedSource(
        data,
        sizes[0] === 1 && sizes.length === 1 ? [1, 1 << 30] : sizes,
      );
      const counter = { bytes: 0 };
      const out = await collect(readChunks(source, counter));
      assert.ok(out.equals(data), `reads of ${sizes.join(',')}`);
      assert.equal(counter.bytes, data.length);
      assert.equal(source.closed, 1);
    }
  });

  it('gunzips a source that starts with 1f 8b, even when the first read gives one byte', async () => {
    const data = logBytes(600_000);
    const source = scriptedSource(gzipSync(data), [1, 1, 4096, 1 << 30]);
    const counter = { bytes: 0 };
    const out = await collect(readChunks(source, counter));
    assert.ok(out.equals(data));
    assert.equal(counter.bytes, gzipSync(data).length);
    assert.equal(source.closed, 1);
  });

  it('an empty source gives no chunks and is closed', async () => {
    const source = scriptedSource(Buffer.alloc(0), [100]);
    let chunks = 0;
    for await (const _ of readChunks(source)) chunks++;
    assert.equal(chunks, 0);
    assert.equal(source.closed, 1);
  });

  it('a one-byte source is that byte, even 1f, whatever the buffer held before', async () => {
    for (const byte of [0x1f, 0x78]) {
      const inner = scriptedSource(Buffer.from([byte]), [1 << 30]);
      // The first read also leaves 8b in the byte after the one it reports, as reused memory
      // may: only bytes read may decide gzip.
      const source: ByteSource = {
        read: async (buffer, offset, length) => {
          const r = await inner.read(buffer, offset, length);
          if (offset === 0) buffer[1] = 0x8b;
          return r;
        },
        close: () => inner.close(),
      };
      const out = await withTimeout(collect(readChunks(source)), 5000, 'a one-byte source');
      assert.deepEqual([...out], [byte]);
      assert.equal(inner.closed, 1);
    }
  });

  it('a failing read on the gzip path ends the chunks with its error and closes once', async () => {
    await withoutUnhandledRejections(async () => {
      const inner = scriptedSource(gzipSync(logBytes(600_000)), [4096]);
      const failure = new Error('EIO: i/o error, read');
      const source: ByteSource = {
        read: (buffer, offset, length) =>
          inner.reads === 3 ? Promise.reject(failure) : inner.read(buffer, offset, length),
        close: () => inner.close(),
      };
      await assert.rejects(
        withTimeout(collect(readChunks(source)), 5000, 'the gzip read failure'),
        failure,
      );
      assert.equal(inner.closed, 1);
    });
  });

  it('stdin: gzip is recognised when the first chunk is its first byte alone', async () => {
    const data = logBytes(300_000);
    const gz = gzipSync(data);
    const stdin = Readable.from([gz.subarray(0, 1), gz.subarray(1, 10), gz.subarray(10)]);
    assert.ok((await collect(decodedChunks(stdin))).equals(data));
    const plain = Readable.from([Buffer.from([0x1f]), Buffer.from('x\n')]);
    assert.deepEqual([...(await collect(decodedChunks(plain)))], [0x1f, 0x78, 0x0a]);
  });

  it('a failing read ends the chunks with its error, without an unhandled rejection', async () => {
    await withoutUnhandledRejections(async () => {
      const data = logBytes(300_000);
      const inner = scriptedSource(data, [100_000]);
      const failure = new Error('EIO: i/o error, read');
      const source: ByteSource & { closed: number } = {
        get closed() {
          return inner.closed;
        },
        // The second read is the read-ahead: it fails while the first chunk is out.
        read: (buffer, offset, length) => {
          if (inner.reads !== 1) return inner.read(buffer, offset, length);
          inner.reads++;
          return Promise.reject(failure);
        },
        close: () => inner.close(),
      };
      const chunks = readChunks(source);
      const seen: number[] = [];
      await assert.rejects(async () => {
        for await (const chunk of chunks) {
          seen.push(chunk.length);
          // A turn of the event loop with the failed read-ahead pending.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }, failure);
      assert.deepEqual(seen, [100_000]);
      assert.equal(source.closed, 1);
    });
  });

  it('a consumer that stops early: the source is closed only after the read in flight', async () => {
    let release: (r: { bytesRead: number }) => void = () => {};
    let closed = 0;
    let reads = 0;
    const source: ByteSource = {
      read(buffer) {
        reads++;
        if (reads === 1) {
          buffer.write('2026-03-02T10:00:00.000000+00:00 app[web.1]: a\n');
          return Promise.resolve({ bytesRead: 48 });
        }
        return new Promise((resolve) => (release = resolve));
      },
      close() {
        closed++;
        return Promise.resolve();
      },
    };
    const chunks = readChunks(source);
    const first = await chunks.next();
    assert.equal(first.done, false);
    assert.equal(reads, 2, 'the next read is already in flight');
    const stopped = chunks.return(undefined);
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(closed, 0, 'not closed under a pending read');
    release({ bytesRead: 0 });
    await stopped;
    assert.equal(closed, 1);
  });

  it('a file read through the reused buffers gives the report of the same bytes in one buffer', async () => {
    // Every fixture, with a non-ASCII line and a line over the 64 KiB cap, repeated past
    // several 256 KiB chunks so lines and kept evidence straddle buffer reuse.
    const fixtures = readdirSync(dataFile(''))
      .filter((name) => name.endsWith('.txt'))
      .map((name) => readFileSync(dataFile(name), 'utf8'))
      .join('');
    const unicode = '2026-03-02T10:00:00.000000+00:00 app[web.1]: Error: ünïcödé ☃\n';
    const oversized = `2026-03-02T10:00:00.000001+00:00 app[web.1]: ${'y'.repeat(70_000)}\n`;
    let text = '';
    for (let i = 0; text.length < 1_200_000; i++)
      text += (i % 8 === 3 ? oversized : unicode) + fixtures;
    const file = join(dir, 'mixed.log');
    writeFileSync(file, text);

    const whole = new Analyzer({ nowMs: NOW_2026 });
    const feeder = createFeeder(whole);
    feeder.write(Buffer.from(text));
    feeder.end();

    const streamed = new Analyzer({ nowMs: NOW_2026 });
    const input = await openInput(file);
    assert.equal(input.size, Buffer.byteLength(text));
    await drain(input.chunks, createFeeder(streamed));
    assert.equal(input.position(), input.size);

    const a = buildReport(whole.finish());
    const b = buildReport(streamed.finish());
    assert.ok(a.input.lines > 3000, `${a.input.lines} lines`);
    assert.deepEqual(b, a);
  });
});
