/**
 * The seed's cluster: a primary that forks one worker and forks again when it dies, so a crash
 * costs the requests in flight (H13) but the next ones are served by the new worker.
 */

import cluster, { type Worker } from 'node:cluster';

export function runPrimary(announce: (line: string) => void): void {
  const live = new Set<Worker>();
  let stopping = false;
  const fork = () => {
    const worker = cluster.fork();
    live.add(worker);
    announce(`primary: forked worker ${worker.process.pid}`);
  };
  cluster.on('exit', (worker, code, signal) => {
    live.delete(worker);
    if (stopping) {
      if (live.size === 0) process.exit(0);
      return;
    }
    announce(
      `primary: worker ${worker.process.pid} died (${signal ?? `exit ${code}`}); forking a new one`,
    );
    fork();
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    for (const worker of live) worker.process.kill(signal);
    if (live.size === 0) process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  fork();
}
