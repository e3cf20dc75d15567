/**
 * The store alone, in this process: the flood batches, parsed, committed in groups of four
 * (as group commit gathers four senders' batches) to a fresh SQLite file with the drain's
 * settings (WAL, synchronous=FULL). Reports CPU per line (process.cpuUsage: other work on the
 * machine moves it less than wall time) and wall time per line (which includes the fsyncs),
 * closing the store (its last WAL checkpoint) included.
 * With --compare BUILD the same batches go to that build's store too, rounds interleaved.
 *
 *   node build/bench/drain/store.js [--rounds N] [--compare BUILD]
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LOGPLEX_FORMAT } from '../../src/drain/ingest-formats.js';
import type { openSqliteStore } from '../../src/drain/sqlite-store.js';
import type { IngestBatch } from '../../src/drain/store.js';
import { floodBatches, median } from './load.js';

const args = process.argv.slice(2);
const at = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? undefined : args[i + 1];
};
const ROUNDS = Number(at('rounds') ?? 7);
const COMPARE = at('compare');
const GROUP = 4;
const BATCHES_PER_ROUND = 1024;

type Open = typeof openSqliteStore;

const parsed: IngestBatch[] = floodBatches.map((b, i) => {
  const p = LOGPLEX_FORMAT.parse(b.body, { msgCount: b.lines }, 10_000);
  return {
    app: `bench-${i % GROUP}`,
    frameId: null,
    token: null,
    receivedMs: Date.now(),
    lines: p.lines,
    platformErrors: p.platformErrors,
    counters: p.counters,
    samples: p.samples,
  };
});

async function round(open: Open, dir: string, n: number): Promise<{ cpu: number; wall: number }> {
  const store = open(join(dir, `store-${n}.db`));
  let lines = 0;
  const t0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  for (let i = 0; i < BATCHES_PER_ROUND; i += GROUP) {
    const group = Array.from(
      { length: GROUP },
      (_, k) => parsed[(i + k) % parsed.length] as IngestBatch,
    );
    await store.ingestMany(group);
    for (const b of group) lines += b.lines.length;
  }
  // Closing checkpoints what the WAL still holds: part of what the lines cost.
  await store.close();
  const t = process.cpuUsage(t0);
  const wall = Number(process.hrtime.bigint() - w0) / 1e3;
  return { cpu: (t.user + t.system) / lines, wall: wall / lines };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'h13-bench-store-'));
  try {
    const contenders: Array<[string, Open]> = [
      [
        'this build',
        ((await import('../../src/drain/sqlite-store.js')) as { openSqliteStore: Open })
          .openSqliteStore,
      ],
    ];
    if (COMPARE !== undefined) {
      const url = pathToFileURL(`${COMPARE}/src/drain/sqlite-store.js`).href;
      contenders.push([
        COMPARE,
        ((await import(url)) as { openSqliteStore: Open }).openSqliteStore,
      ]);
    }
    for (const [, open] of contenders) await round(open, dir, -1);
    const results = new Map(
      contenders.map(([n]) => [n, { cpu: [] as number[], wall: [] as number[] }]),
    );
    let n = 0;
    for (let r = 0; r < ROUNDS; r++)
      for (const [name, open] of contenders) {
        const x = await round(open, dir, n++);
        results.get(name)?.cpu.push(x.cpu);
        results.get(name)?.wall.push(x.wall);
      }
    console.log(
      `node ${process.version}; ${ROUNDS} rounds of ${BATCHES_PER_ROUND} batches (${parsed[0]?.lines.length} lines each) committed ${GROUP} per transaction`,
    );
    for (const [name, r] of results)
      console.log(
        `${name}: median ${median(r.cpu).toFixed(2)} µs CPU per line [${Math.min(...r.cpu).toFixed(2)}–${Math.max(...r.cpu).toFixed(2)}], wall ${median(r.wall).toFixed(2)} µs per line`,
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
