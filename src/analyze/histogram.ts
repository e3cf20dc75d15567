/**
 * Service-time percentiles in fixed memory: a log-linear histogram (HdrHistogram's idea,
 * 16 sub-buckets per power of two, so a percentile is within 1/16 of the true value) over
 * 0 ms to 2^26 ms. The exact maximum is kept on the side.
 */

const LINEAR = 32;
const SUB = 16;
const OCTAVES = 22;
const SIZE = LINEAR + SUB * OCTAVES;

function indexOf(ms: number): number {
  if (ms < LINEAR) return ms;
  const octave = Math.floor(Math.log2(ms / LINEAR));
  if (octave >= OCTAVES) return SIZE - 1;
  const base = LINEAR * 2 ** octave;
  return LINEAR + octave * SUB + Math.floor(((ms - base) / base) * SUB);
}

/** The upper bound of a bucket (what a percentile reports). */
function upperOf(index: number): number {
  if (index < LINEAR) return index;
  const octave = Math.floor((index - LINEAR) / SUB);
  const sub = (index - LINEAR) % SUB;
  const base = LINEAR * 2 ** octave;
  return Math.round(base + ((sub + 1) * base) / SUB) - 1;
}

export class Histogram {
  private readonly counts = new Uint32Array(SIZE);
  count = 0;
  max = 0;

  record(ms: number): void {
    const v = ms < 0 || !Number.isFinite(ms) ? 0 : Math.floor(ms);
    this.counts[indexOf(v)]! += 1;
    this.count++;
    if (v > this.max) this.max = v;
  }

  /** p in (0, 100]; null when empty. Never above the true maximum. */
  percentile(p: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(upperOf(i), this.max);
    }
    return this.max;
  }

  /** Bytes this structure holds, for the memory-bound tests. */
  static readonly bytes = SIZE * 4;
}
