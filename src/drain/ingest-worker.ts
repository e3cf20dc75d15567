/**
 * The thread that commits ingested batches (worker-ingest.ts starts it): its own connection
 * to the SQLite file, the same statements and the same transaction as on the main thread
 * (sqlite-store.ts, `ingestMany` with no worker), answering each request once its commit is
 * on disk. node:sqlite blocks the thread it runs on; here that is not the one accepting
 * requests.
 */

import { parentPort, workerData } from 'node:worker_threads';
import { unpackBatch, type WorkerReply, type WorkerRequest } from './packed-batch.js';
import { openSqliteStore } from './sqlite-store.js';

const port = parentPort;
if (port === null) throw new Error('ingest-worker.js runs as a worker thread');
const { path } = workerData as { path: string };
// Migrations ran on the main thread before this thread was started; this only opens.
const store = openSqliteStore(path, { ingestInWorker: false });
port.on('message', (m: WorkerRequest | 'close') => {
  if (m === 'close') {
    store.close().finally(() => port.close());
    return;
  }
  const work =
    m.kind === 'ingest'
      ? store.ingestMany(m.batches.map(unpackBatch))
      : store.addDiagnosesNew(m.app, m.items);
  work.then(
    (results) => port.postMessage({ id: m.id, ok: true, results } satisfies WorkerReply),
    (err: unknown) =>
      port.postMessage({
        id: m.id,
        ok: false,
        message: (err as Error).message,
      } satisfies WorkerReply),
  );
});
