/**
 * WAL checkpoints on a thread of their own. SQLite copies the write-ahead log back into the
 * database file every 1 000 pages by default, inside the commit that crosses that mark, on
 * the thread that commits: with node:sqlite that is the event loop, and the copy (with its
 * fsync of the database file under synchronous=FULL) stalls every request meanwhile. Here
 * the main connection turns that off (`wal_autocheckpoint = 0`) and a worker with its own
 * connection runs a PASSIVE checkpoint on a period: it never blocks a writer, and writers
 * never wait for it.
 *
 * Durability does not change: a commit is on disk when its WAL frames are synced, which
 * synchronous=FULL still does in every commit; a checkpoint only moves committed pages.
 * If the thread dies, the main connection checkpoints again itself (its default), so the WAL
 * never grows without bound.
 */

import { Worker } from 'node:worker_threads';

/** How often the worker checkpoints. */
export const CHECKPOINT_EVERY_MS = 200;
/** SQLite's own default, restored on the main connection if the worker is gone. */
const AUTOCHECKPOINT_PAGES = 1000;

// The worker's whole program: small enough to live here as text, and free of this package's
// modules (a worker resolves them again; node:sqlite is all it needs).
const PROGRAM = `
const { workerData, parentPort } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.path);
db.exec('PRAGMA busy_timeout = 5000');
db.exec('PRAGMA synchronous = FULL');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const timer = setInterval(() => checkpoint.get(), workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint.get();
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  /** Stops the worker after a last checkpoint. */
  close(): Promise<void>;
}

/**
 * Starts checkpointing `path` on a worker; `mainDb` is the connection that commits, whose
 * own checkpoints are turned off while the worker runs.
 */
export function startCheckpointer(
  path: string,
  mainDb: { exec(sql: string): void },
  everyMs: number = CHECKPOINT_EVERY_MS,
): Checkpointer {
  const worker = new Worker(PROGRAM, { eval: true, workerData: { path, everyMs } });
  // The HTTP server keeps the process alive while it serves; this thread alone does not.
  worker.unref();
  mainDb.exec('PRAGMA wal_autocheckpoint = 0');
  let closing = false;
  const exited = new Promise<void>((resolve) => {
    worker.once('exit', () => {
      if (!closing) {
        try {
          mainDb.exec(`PRAGMA wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
        } catch {
          // The main connection is closed too: nothing left to checkpoint for.
        }
      }
      resolve();
    });
  });
  // An error also ends the thread ('exit' follows): the fallback above covers it.
  worker.on('error', () => {});
  return {
    close() {
      closing = true;
      worker.postMessage('close');
      return exited;
    },
  };
}
