/**
 * Batches as they cross to the ingest worker (worker-ingest.ts → ingest-worker.ts) and back
 * into the objects the store takes.
 */

import type { IngestBatch, StoredDiagnosis } from './store.js';

/**
 * A batch as sent to the thread: its lines as one string and typed arrays rather than an
 * object per line, because structured clone copies one string and a few buffers far faster
 * than hundreds of small objects (measured: postMessage of objects took a fifth of the main
 * thread's time).
 */
export interface PackedBatch extends Omit<IngestBatch, 'lines'> {
  readonly text: string;
  /** Length of each line in `text`, in UTF-16 units. */
  readonly lengths: Uint32Array;
  /** Each line's micros; NaN for null. */
  readonly micros: Float64Array;
  /** 1 for a router line. */
  readonly router: Uint8Array;
}

/** What the main thread asks of the worker: the writes made while ingesting. */
export type WorkerRequest =
  | { readonly id: number; readonly kind: 'ingest'; readonly batches: readonly PackedBatch[] }
  | {
      readonly id: number;
      readonly kind: 'diagnoses';
      readonly app: string;
      readonly items: readonly StoredDiagnosis[];
    };

export function packBatch(b: IngestBatch): PackedBatch {
  const n = b.lines.length;
  const lengths = new Uint32Array(n);
  const micros = new Float64Array(n);
  const router = new Uint8Array(n);
  const texts: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const l = b.lines[i] as IngestBatch['lines'][number];
    texts[i] = l.text;
    lengths[i] = l.text.length;
    micros[i] = l.micros ?? Number.NaN;
    router[i] = l.router ? 1 : 0;
  }
  const { lines: _, ...rest } = b;
  return { ...rest, text: texts.join(''), lengths, micros, router };
}

export function unpackBatch(p: PackedBatch): IngestBatch {
  const { text, lengths, micros, router, ...rest } = p;
  const lines: IngestBatch['lines'][number][] = new Array(lengths.length);
  let at = 0;
  for (let i = 0; i < lengths.length; i++) {
    const end = at + (lengths[i] as number);
    const m = micros[i] as number;
    lines[i] = {
      text: text.slice(at, end),
      micros: Number.isNaN(m) ? null : m,
      router: router[i] === 1,
    };
    at = end;
  }
  return { ...rest, lines };
}

export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly results: unknown }
  | { readonly id: number; readonly ok: false; readonly message: string };
