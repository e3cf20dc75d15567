/**
 * Loaded into the drain by the soak (`node --import …/mem-probe.js`): every
 * H13_MEM_PROBE_MS milliseconds it prints one `h13-mem {json}` line to stderr with what only
 * the process itself can see: process.memoryUsage() (external memory and ArrayBuffers, which
 * the JS heap after a GC does not include) and v8.getHeapStatistics() (the heap V8 has
 * committed and the memory V8 itself malloc()s). The soak reads the latest line with each
 * sample, next to /proc/PID/smaps_rollup read from outside, so a rise in RSS can be placed:
 * JS heap, Buffers, V8's own malloc, file-backed pages (the SQLite file or WAL mapped), or
 * the anonymous rest (SQLite's and the allocator's).
 */

import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';

export const MEM_PROBE_PREFIX = 'h13-mem ';

export interface MemProbe {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
  /** V8's committed heap (all spaces, physical). */
  readonly heapPhysical: number;
  /** Memory V8 allocates with malloc outside its heap (zones, compiler). */
  readonly mallocedMemory: number;
  readonly peakMallocedMemory: number;
  /** Committed (resident) bytes per V8 heap space: which space holds the committed heap. */
  readonly spaces: Record<string, number>;
}

function sample(): MemProbe {
  const m = process.memoryUsage();
  const h = getHeapStatistics();
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    heapPhysical: h.total_physical_size,
    mallocedMemory: h.malloced_memory,
    peakMallocedMemory: h.peak_malloced_memory,
    spaces: Object.fromEntries(
      getHeapSpaceStatistics().map((x) => [x.space_name, x.physical_space_size]),
    ),
  };
}

const everyMs = Number(process.env.H13_MEM_PROBE_MS ?? 0);
if (everyMs > 0) {
  setInterval(() => {
    process.stderr.write(`${MEM_PROBE_PREFIX}${JSON.stringify(sample())}\n`);
  }, everyMs).unref();
}
