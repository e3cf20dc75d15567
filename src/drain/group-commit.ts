/**
 * Group commit: one commit in flight at a time; the batches whose requests finished while it
 * ran are committed together next, in one transaction and so one fsync, and each request is
 * answered once its batch is on disk. With the commit on a worker thread (worker-ingest.ts)
 * the event loop keeps reading requests meanwhile, so the slower the disk, the larger the
 * next group, rather than a queue of small commits each paying its own fsync.
 *
 * A store whose commit is a conversation with a server (PostgreSQL) may allow more than one
 * commit in flight (`commitsInFlight`): while one transaction waits for the server's fsync,
 * the next group's statements are already being sent and executed, so neither the process nor
 * the server sits idle waiting for the other. Each group still commits as a whole and each
 * request is answered after its own group's commit; the store keeps concurrent commits
 * correct (pg-ingest.ts: the per-app row locks order an app's lines).
 */

import type { IngestBatch, IngestResult, Store } from './store.js';

interface Waiting {
  readonly batch: IngestBatch;
  readonly resolve: (r: IngestResult) => void;
  readonly reject: (err: unknown) => void;
}

export class GroupCommit {
  private queue: Waiting[] = [];
  private scheduled = false;
  private committing = 0;
  private readonly inFlight: number;

  constructor(private readonly store: Pick<Store, 'ingestMany' | 'commitsInFlight'>) {
    this.inFlight = Math.max(1, store.commitsInFlight ?? 1);
  }

  ingest(batch: IngestBatch): Promise<IngestResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      this.schedule();
    });
  }

  /** setImmediate: the requests read in this turn of the loop join the group. */
  private schedule(): void {
    if (this.scheduled || this.committing >= this.inFlight || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const group = this.queue;
    this.queue = [];
    this.committing++;
    let committed: Promise<IngestResult[]>;
    try {
      committed = this.store.ingestMany(group.map((w) => w.batch));
    } catch (err) {
      committed = Promise.reject(err);
    }
    committed
      .then(
        (results) => {
          for (let i = 0; i < group.length; i++) group[i]?.resolve(results[i] as IngestResult);
        },
        (err: unknown) => {
          for (const w of group) w.reject(err);
        },
      )
      .finally(() => {
        this.committing--;
        this.schedule();
      });
  }
}
