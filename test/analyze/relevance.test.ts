import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide } from '../../src/analyze/diagnose.js';
import type { Evidence, EvidenceKind } from '../../src/analyze/evidence.js';
import {
  decidedByAppDown,
  isRelevant,
  ownEventsFrom,
  releasesFrom,
} from '../../src/analyze/relevance.js';
import { SLACK_US, type Windows } from '../../src/analyze/verdict.js';
import { seededRandom } from '../helpers/random.js';
import { routerRecord } from './analyze-helpers.js';

const KINDS: readonly EvidenceKind[] = [
  'guard',
  'request-id',
  'stack',
  'worker-timeout',
  'worker-died',
  'memory',
  'kill',
  'shutdown',
  'launcher-exit',
  'start',
  'starting',
  'up',
  'connection-failed',
  'no-status',
  'slow',
  'exit',
  'crash',
  'boot-failure',
  'sigterm',
  'restart',
  'release',
  'timeout-repeat',
];
const CODES = ['H13', 'H18', 'H12', 'H10', 'H20', 'H15', 'H14', 'H19', 'H27'] as const;
const DETAILS: Partial<Record<EvidenceKind, readonly string[]>> = {
  guard: ['socket destroyed', 'shutdown deadline', 'uncaught exception', 'keep-alive idle socket'],
  memory: ['out of memory', 'R14 (Memory quota exceeded)'],
  stack: ['error', 'at handler (/app/server.js:12:11)'],
  start: ['npm start', 'node server.js'],
  exit: ['status 143', 'status 1', 'status 137'],
  'timeout-repeat': ['GET /', 'GET /other'],
};

function partition(ev: readonly Evidence[]): [Evidence[], Evidence[]] {
  return [ev.filter((e) => e.kind !== 'release'), ev.filter((e) => e.kind === 'release')];
}

describe('evidence relevance', () => {
  it('never changes a verdict: deciding on all the evidence or on the relevant part agree', () => {
    const rand = seededRandom(11);
    const pickOf = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    let filteredOut = 0;
    for (let round = 0; round < 20_000; round++) {
      const code = pickOf(CODES);
      const t = 1_000_000_000_000;
      // Short requests, and now and then one that ran for minutes (an H18 stream, an H12).
      const serviceMs = rand() < 0.9 ? Math.floor(rand() * 31_000) : Math.floor(rand() * 900_000);
      const dyno = rand() < 0.15 ? null : 'web.1';
      const r = routerRecord({
        code,
        serviceMs,
        dyno,
        connectMs: 1,
        protocol: 'http1.1',
        tls: false,
      });
      const w: Windows = {
        requestStart: t - (serviceMs + 1) * 1000 - SLACK_US,
        t,
        after: t + 5_000_000,
      };
      // Times clustered near the error (where windows have their edges) and spread far back.
      const evidence: Evidence[] = [];
      const count = 1 + Math.floor(rand() * 12);
      for (let i = 0; i < count; i++) {
        const kind = pickOf(KINDS);
        const micros =
          rand() < 0.6
            ? t + Math.floor((rand() - 0.7) * 70_000_000)
            : t - Math.floor(rand() * 900_000_000);
        evidence.push({
          kind,
          micros,
          process: rand() < 0.75 ? 'web.1' : rand() < 0.5 ? 'web.2' : 'api',
          line: `line ${i}`,
          message: `message ${i}`,
          detail: pickOf(DETAILS[kind] ?? ['detail']),
        });
      }
      const appDown = decidedByAppDown(code);
      const kept = evidence.filter((e) => isRelevant(appDown, w, e));
      filteredOut += evidence.length - kept.length;
      // Releases reach the rules apart from the rest (PendingErrors reads them at the end).
      const [keptOthers, keptReleases] = partition(kept);
      const [allOthers, allReleases] = partition(evidence);
      assert.deepEqual(
        decide(r, w, keptOthers, keptReleases),
        decide(r, w, allOthers, allReleases),
        `round ${round}, ${code}`,
      );
      // The look-back bounds are no tighter than the windows.
      for (const e of kept) {
        // Matched by id, or gathered apart from the event look-back (the dyno's start command
        // from the analyzer, failed connections from the whole ring, other H12s from theirs).
        if (
          ['guard', 'request-id', 'start', 'connection-failed', 'timeout-repeat'].includes(e.kind)
        )
          continue;
        const from = e.kind === 'release' ? releasesFrom(appDown, w) : ownEventsFrom(appDown, w);
        assert.ok(e.micros >= from, `round ${round}: ${e.kind} at ${e.micros} before ${from}`);
      }
    }
    // The filter does filter: most random evidence is outside every window.
    assert.ok(filteredOut > 20_000, `only ${filteredOut} pieces were irrelevant`);
  });
});
