/**
 * bufferedLines: the write batching behind the CLI's router lines (and offered to programmatic
 * sinks). Lines must keep their order, leave in one write per event-loop turn, and never wait
 * past MAX_PENDING bytes or an explicit flush.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bufferedLines } from '../../src/router/index.js';

function recorder(): { writes: string[]; write(chunk: unknown): boolean } {
  const writes: string[] = [];
  return {
    writes,
    write(chunk: unknown) {
      writes.push(String(chunk));
      return true;
    },
  };
}

test('lines of one turn leave in one write, in order', async () => {
  const out = recorder();
  const lines = bufferedLines(out);
  lines.write('a\n');
  lines.write('b\n');
  lines.write('c\n');
  assert.deepEqual(out.writes, []);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(out.writes, ['a\nb\nc\n']);
  lines.write('d\n');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(out.writes, ['a\nb\nc\n', 'd\n']);
});

test('flush writes what is pending at once; a large backlog does not wait for the turn', () => {
  const out = recorder();
  const lines = bufferedLines(out);
  lines.write('x\n');
  lines.flush();
  assert.deepEqual(out.writes, ['x\n']);
  lines.flush();
  assert.equal(out.writes.length, 1, 'nothing pending: no empty write');
  const big = `${'y'.repeat(70 * 1024)}\n`;
  lines.write(big);
  assert.deepEqual(out.writes, ['x\n', big]);
});
