/**
 * Frames to lines alone, in this process: the logplex format's parse of the flood batches,
 * CPU time per line (process.cpuUsage, so other work on the machine moves it less than wall
 * time). With --compare BUILD the same batches go through that build's parser too, rounds
 * interleaved.
 *
 *   node build/bench/drain/parse.js [--rounds N] [--compare BUILD]
 */

import { pathToFileURL } from 'node:url';
import type { IngestFormat } from '../../src/drain/ingest-formats.js';
import { LOGPLEX_FORMAT } from '../../src/drain/ingest-formats.js';
import { floodBatches, median } from './load.js';

const args = process.argv.slice(2);
const at = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? undefined : args[i + 1];
};
const ROUNDS = Number(at('rounds') ?? 15);
const COMPARE = at('compare');
const PASSES = 20;

function cpuUsPerLine(format: IngestFormat): number {
  let lines = 0;
  const t0 = process.cpuUsage();
  for (let p = 0; p < PASSES; p++)
    for (const b of floodBatches)
      lines += format.parse(b.body, { msgCount: b.lines }, 10_000).lines.length;
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / lines;
}

async function main(): Promise<void> {
  const contenders: Array<[string, IngestFormat]> = [['this build', LOGPLEX_FORMAT]];
  if (COMPARE !== undefined) {
    const url = pathToFileURL(`${COMPARE}/src/drain/ingest-formats.js`).href;
    const other = (await import(url)) as { LOGPLEX_FORMAT: IngestFormat };
    contenders.push([COMPARE, other.LOGPLEX_FORMAT]);
  }
  // Warm-up: both optimised by V8 before anything is timed.
  for (const [, f] of contenders) cpuUsPerLine(f);
  const results = new Map<string, number[]>(contenders.map(([n]) => [n, []]));
  for (let r = 0; r < ROUNDS; r++)
    for (const [n, f] of contenders) results.get(n)?.push(cpuUsPerLine(f));
  console.log(
    `node ${process.version}; ${ROUNDS} rounds of ${PASSES} passes over ${floodBatches.length} batches of ${floodBatches[0]?.lines} lines`,
  );
  for (const [n, xs] of results)
    console.log(
      `${n}: median ${median(xs).toFixed(3)} µs CPU per line [${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)}]`,
    );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
