/**
 * Every bound on what the analyzer keeps, in one table: memory stays flat whatever the
 * length of the input (docs/analyze.md, "Memory").
 */

export const LIMITS = {
  /** App lines kept per web dyno (what a router error looks back at). */
  ringLines: 512,
  /** Web dynos with a ring; beyond, the first one seen is dropped. */
  dynos: 256,
  /** Dyno-manager events, releases and crash-time stack snapshots. */
  events: 512,
  /** Router errors waiting for their evidence window; beyond, the oldest is decided early. */
  pending: 5000,
  /** Guard lines whose router line has not come yet. */
  guardLines: 10_000,
  evidencePerError: 48,
  unparsedSamples: 5,
} as const;
