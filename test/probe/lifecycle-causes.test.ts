/**
 * The cause texts of the shutdown findings match how the app ended: an app killed by SIGTERM had
 * no handler, so the refused requests (H21) must not be blamed on one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type LifecycleResult, lifecycleFindings } from '../../src/probe/lifecycle.js';

const counts = (answered: number, refused: number, reset: number) => ({
  answered,
  refused,
  silent: 0,
  reset,
  truncated: 0,
  open: 0,
});

function shutdown(
  signal: NodeJS.Signals | null,
  code: number | null,
): Omit<LifecycleResult, 'findings'> {
  return {
    phase: 'shutdown',
    before: counts(10, 0, 0),
    after: counts(0, 4, 4),
    sigterms: 1,
    exit: { code, signal, afterMs: 9, killed: false },
    crashRequest: null,
    stderrTail: [],
  };
}

test('no SIGTERM handler: neither the H13 nor the H21 finding blames a handler', () => {
  const findings = lifecycleFindings(shutdown('SIGTERM', null));
  assert.deepEqual(
    findings.map((f) => f.id),
    ['sigterm', 'sigterm-refused'],
  );
  for (const f of findings) {
    assert.match(f.cause, /^No SIGTERM handler/, f.id);
    assert.doesNotMatch(f.cause, /handler closed/, f.id);
  }
});

test('a handler that exited on its own: the H21 finding names its server.close()', () => {
  const refused = lifecycleFindings(shutdown(null, 0)).find((f) => f.id === 'sigterm-refused');
  assert.ok(refused);
  assert.match(refused.cause, /SIGTERM handler closed the listener \(server\.close\(\)\)/);
});
