/**
 * Group commit: one commit in flight at a time; the batches whose requests finished while it
 * ran are committed together next, in one transaction and so one fsync, and each request is
 * answered once its batch is on disk. With the commit on a worker thread (worker-ingest.ts)
 * the event loop keeps reading requests meanwhile, so the slower the disk, the larger the
 * next group, rather than a queue of small commits each paying its own fsync.
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
  private committing = false;

  constructor(private readonly store: Pick<Store, 'ingestMany'>) {}

  ingest(batch: IngestBatch): Promise<IngestResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      this.schedule();
    });
  }

  /** setImmediate: the requests read in this turn of the loop join the group. */
  private schedule(): void {
    if (this.scheduled || this.committing || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const group = this.queue;
    this.queue = [];
    this.committing = true;
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
        this.committing = false;
        this.schedule();
      });
  }
}
