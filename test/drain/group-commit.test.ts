import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { H13Error } from '../../src/core/errors.js';
import { GroupCommit } from '../../src/drain/group-commit.js';
import type { IngestBatch, IngestResult } from '../../src/drain/store.js';

const batch = (frameId: string): IngestBatch => ({
  app: 'a',
  frameId,
  token: null,
  receivedMs: 0,
  lines: [],
  platformErrors: [],
  counters: {},
  samples: [],
});

/** A store whose commits finish when the test says so, recording each group it was given. */
function slowStore(commitsInFlight?: number) {
  const groups: string[][] = [];
  const finish: Array<(fail?: Error) => void> = [];
  let started: () => void = () => {};
  return {
    commitsInFlight,
    groups,
    /** Finishes the commit in flight (resolved, or failed with `fail`). */
    finish: (fail?: Error) => (finish.shift() as (fail?: Error) => void)(fail),
    nextCommit: () => new Promise<void>((r) => (started = r)),
    ingestMany(batches: readonly IngestBatch[]): Promise<IngestResult[]> {
      groups.push(batches.map((b) => b.frameId as string));
      started();
      return new Promise((resolve, reject) =>
        finish.push((fail) =>
          fail === undefined
            ? resolve(batches.map((_, i) => ({ stored: true, firstLineId: i })))
            : reject(fail),
        ),
      );
    },
  };
}

describe('group commit', () => {
  it('keeps one commit in flight; the batches that came meanwhile share the next one', async () => {
    const store = slowStore();
    const commits = new GroupCommit(store);
    let commit = store.nextCommit();
    const first = commits.ingest(batch('F1'));
    await commit;
    commit = store.nextCommit();
    const more = [commits.ingest(batch('F2')), commits.ingest(batch('F3'))];
    // Let several turns of the event loop pass: F2 and F3 wait for F1's commit to finish.
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(store.groups, [['F1']]);
    store.finish();
    assert.deepEqual(await first, { stored: true, firstLineId: 0 });
    await commit;
    assert.deepEqual(store.groups, [['F1'], ['F2', 'F3']]);
    store.finish();
    assert.deepEqual(await Promise.all(more), [
      { stored: true, firstLineId: 0 },
      { stored: true, firstLineId: 1 },
    ]);
  });

  it('a failed commit refuses every batch of its group, and the next group is committed', async () => {
    const store = slowStore();
    const commits = new GroupCommit(store);
    let commit = store.nextCommit();
    const doomed = commits.ingest(batch('F1'));
    await commit;
    commit = store.nextCommit();
    const later = commits.ingest(batch('F2'));
    store.finish(new H13Error('H13_ERR_STORE', 'disk full'));
    await assert.rejects(doomed, /disk full/);
    await commit;
    store.finish();
    assert.deepEqual(await later, { stored: true, firstLineId: 0 });
    assert.deepEqual(store.groups, [['F1'], ['F2']]);
  });

  it('a store that allows two commits in flight gets the next group before the first finishes', async () => {
    const store = slowStore(2);
    const commits = new GroupCommit(store);
    let commit = store.nextCommit();
    const first = commits.ingest(batch('F1'));
    await commit;
    commit = store.nextCommit();
    const second = commits.ingest(batch('F2'));
    await commit;
    commit = store.nextCommit();
    const third = [commits.ingest(batch('F3')), commits.ingest(batch('F4'))];
    // Two in flight: F3 and F4 wait, however many turns of the loop pass.
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(store.groups, [['F1'], ['F2']]);
    store.finish();
    assert.deepEqual(await first, { stored: true, firstLineId: 0 });
    await commit;
    assert.deepEqual(store.groups, [['F1'], ['F2'], ['F3', 'F4']]);
    store.finish();
    store.finish();
    assert.deepEqual(await second, { stored: true, firstLineId: 0 });
    assert.deepEqual(await Promise.all(third), [
      { stored: true, firstLineId: 0 },
      { stored: true, firstLineId: 1 },
    ]);
  });
});
