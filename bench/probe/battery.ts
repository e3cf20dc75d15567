/**
 * How long the bad-request battery takes against a local Node server (in its own process, so
 * the probe and the server do not share an event loop). Prints the median wall time of
 * several runs and cases per second, at the CLI's default concurrency and one case at a time.
 *
 *   node build/bench/probe/battery.js [runs]
 */

import { spawn } from 'node:child_process';
import { runBadRequests } from '../../src/probe/bad-requests.js';
import { BATTERY } from '../../src/probe/battery.js';

const SERVER = `
const http = require('node:http');
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end('ok\\n')); });
s.listen(0, '127.0.0.1', () => console.log(s.address().port));
`;

const runs = Number(process.argv[2] ?? 7);
const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<number>((resolve) => {
  child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
});
const target = { host: '127.0.0.1', port, hostHeader: `127.0.0.1:${port}`, path: '/' };

async function measure(concurrency: number): Promise<number[]> {
  const times: number[] = [];
  await runBadRequests(target, { cases: BATTERY, timeoutMs: 5000, concurrency }); // warm-up
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const results = await runBadRequests(target, { cases: BATTERY, timeoutMs: 5000, concurrency });
    times.push(performance.now() - started);
    if (results.some((r) => r.ending === 'open' || r.ending === 'refused')) {
      throw new Error('a case hit its deadline or was refused: the figure would measure timeouts');
    }
  }
  return times.sort((a, b) => a - b);
}

const bytes = BATTERY.reduce((n, c) => n + Buffer.byteLength(c.send, 'latin1'), 0);
console.log(
  `battery: ${BATTERY.length} cases, ${(bytes / 1024).toFixed(0)} KiB, ${runs} runs, Node ${process.version}`,
);
for (const concurrency of [8, 1]) {
  const times = await measure(concurrency);
  const median = times[Math.floor(times.length / 2)] as number;
  console.log(
    `concurrency ${concurrency}: median ${median.toFixed(1)} ms (min ${times[0]?.toFixed(1)}, max ${times[times.length - 1]?.toFixed(1)}), ` +
      `${Math.round((BATTERY.length / median) * 1000)} cases/s`,
  );
}
child.kill();
