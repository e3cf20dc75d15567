/**
 * Batches (and the diagnoses made from them) committed on a worker thread (ingest-worker.ts), so the event loop keeps reading
 * and answering requests while SQLite inserts rows and waits for fsync. The promise of
 * `ingestMany` resolves only when the worker says the commit is done, so a 2xx still means
 * on disk with synchronous=FULL. WAL lets the main thread's connection read meanwhile; its
 * own few writes (diagnoses, rejections, pruning) wait on SQLite's lock (busy_timeout).
 *
 * If the thread dies (a crash, its database gone), every batch waiting on it is refused with
 * H13_ERR_STORE: the route answers 503 and logplex sends it again. A batch the worker had
 * committed before dying is then a retried Frame-Id, answered as a duplicate: nothing is
 * stored twice, nothing answered 2xx that is not on disk. The next batch starts a new thread.
 */

import { Worker } from 'node:worker_threads';
import { H13Error } from '../core/errors.js';
import { packBatch, type WorkerReply, type WorkerRequest } from './packed-batch.js';
import type { IngestBatch, IngestResult, NewDiagnosis, StoredDiagnosis } from './store.js';

const WORKER = new URL('./ingest-worker.js', import.meta.url);
/** How long `close` waits for the worker to close its database before stopping it. */
const CLOSE_WAIT_MS = 5000;

interface Pending {
  readonly resolve: (r: unknown) => void;
  readonly reject: (err: unknown) => void;
}

export class WorkerIngest {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly path: string) {}

  ingestMany(batches: readonly IngestBatch[]): Promise<IngestResult[]> {
    return this.call((id) => {
      const packed = batches.map(packBatch);
      return [
        { id, kind: 'ingest', batches: packed },
        packed.flatMap(
          (p) => [p.lengths.buffer, p.micros.buffer, p.router.buffer] as ArrayBuffer[],
        ),
      ];
    });
  }

  /**
   * Diagnoses are written by the same thread: a write from the main thread while the worker
   * commits would wait for SQLite's lock in its busy handler, which sleeps, with the event
   * loop stopped.
   */
  addDiagnosesNew(app: string, items: readonly StoredDiagnosis[]): Promise<NewDiagnosis[]> {
    return this.call((id) => [{ id, kind: 'diagnoses', app, items }, []]);
  }

  private call<T>(request: (id: number) => [WorkerRequest, ArrayBuffer[]]): Promise<T> {
    if (this.closed) return Promise.reject(new H13Error('H13_ERR_STORE', 'the store is closed'));
    const worker = this.started();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      const [message, transfer] = request(id);
      worker.postMessage(message, transfer);
    });
  }

  /** Lets the worker finish what it was sent and close its database. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('close');
    const timer = setTimeout(() => void worker.terminate(), CLOSE_WAIT_MS);
    await exited;
    clearTimeout(timer);
  }

  private started(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(WORKER, { workerData: { path: this.path } });
    // The HTTP server keeps the process alive while there is work; this thread alone does not.
    worker.unref();
    worker.on('message', (m: WorkerReply) => {
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.results);
      else p.reject(new H13Error('H13_ERR_STORE', m.message));
    });
    const failed = (why: string) => {
      if (this.worker === worker) this.worker = undefined;
      const waiting = [...this.pending.values()];
      this.pending.clear();
      for (const p of waiting)
        p.reject(new H13Error('H13_ERR_STORE', `the ingest worker stopped: ${why}`));
    };
    worker.on('error', (err) => failed(err.message));
    worker.on('exit', (code) => failed(`exit code ${code}`));
    this.worker = worker;
    return worker;
  }
}
