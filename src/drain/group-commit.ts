/**
 * Group commit: the batches whose requests finished while the previous commit ran are
 * committed together, in one transaction and so one fsync, and each request is answered
 * once its batch is on disk. node:sqlite commits on the event loop, so a commit lets the
 * requests behind it gather; setImmediate runs after they have been read.
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

  constructor(private readonly store: Store) {}

  ingest(batch: IngestBatch): Promise<IngestResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const group = this.queue;
    this.queue = [];
    this.store.ingestMany(group.map((w) => w.batch)).then(
      (results) => {
        for (let i = 0; i < group.length; i++) group[i]?.resolve(results[i] as IngestResult);
      },
      (err: unknown) => {
        for (const w of group) w.reject(err);
      },
    );
  }
}
