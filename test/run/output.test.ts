/**
 * `h13 run`'s output: app lines cut at 10 000 characters however they arrive, and bounded
 * memory behind a reader that stalls (backpressure pauses the dynos' output instead of
 * buffering it). Memory is measured in the child (/proc/PID/status), with a generous bound.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { lineSplitter, MAX_LINE } from '../../src/run/line-splitter.js';
import { withTimeout } from '../helpers/wait.js';
import { runArgv } from './cli-args.js';

function split(chunks: string[]): string[] {
  const lines: string[] = [];
  const s = lineSplitter((l) => lines.push(l));
  for (const c of chunks) s.push(c);
  s.end();
  return lines;
}

describe('app lines', () => {
  it('are cut at 10 000 characters, whether the newline comes in the same chunk or later', () => {
    const long = 'a'.repeat(25_000);
    for (const chunks of [
      [`${long}\nshort\n`],
      [long, '\nshort\n'],
      long.match(/.{1,777}/g)?.concat('\nshort\n') ?? [],
    ]) {
      const lines = split(chunks);
      assert.deepEqual(
        lines.map((l) => l.length),
        [MAX_LINE, MAX_LINE, 5000, 5],
      );
      assert.equal(lines.join(''), `${long}short`);
    }
  });

  it('keep empty lines, drop a CR before LF, and flush a last line without newline', () => {
    assert.deepEqual(split(['a\r\n\nb', 'c']), ['a', '', 'bc']);
  });
});

const rssMb = (pid: number) => {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]) / 1024;
  } catch {
    return 0;
  }
};

describe('a slow reader of h13 run', { skip: process.platform !== 'linux' }, () => {
  it('does not grow its memory: 150 MB of app output behind a stalled pipe', async () => {
    const total = 150_000_000;
    const p = spawn(process.execPath, runArgv('run-flood', [`--total=${total}`, '--line=2000']), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    let max = 0;
    const sample = () => {
      max = Math.max(max, rssMb(p.pid as number));
    };
    try {
      p.stdout.pause();
      // Stall the reader while sampling: the flood goes on behind the full pipe meanwhile.
      for (let i = 0; i < 40; i++) {
        await new Promise((r) => setTimeout(r, 100));
        sample();
      }
      const sampler = setInterval(sample, 50);
      let tail = '';
      let bytes = 0;
      await withTimeout(
        new Promise<void>((resolve) => {
          p.stdout.on('data', (d: Buffer) => {
            bytes += d.length;
            tail = (tail + d.toString('latin1')).slice(-100);
            if (tail.includes('flood done')) resolve();
          });
          p.stdout.resume();
        }),
        120_000,
        'the whole flood through h13',
      );
      clearInterval(sampler);
      assert.ok(bytes > total, `read ${bytes} bytes`);
      // Without backpressure this run held the stalled output: 704 MB for 300 MB of output.
      assert.ok(max < 250, `h13 run's RSS peaked at ${max.toFixed(0)} MB`);
    } finally {
      p.kill('SIGINT');
      p.kill('SIGINT');
      await withTimeout(exited, 10_000, 'h13 run to exit');
    }
  });
});
