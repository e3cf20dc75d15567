/**
 * Deadline: the router's reusable lazy timer. It must fire once, never before the latest
 * deadline set (moving it later re-arms lazily, moving it earlier re-arms at once), and never
 * after clear() or dispose(). Only lower bounds on time are asserted (a slow machine cannot
 * make them fail); "no earlier" allows the 1 ms SLACK_MS of deadline.ts.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Deadline } from '../../src/router/deadline.js';
import { withTimeout } from '../helpers/wait.js';

function firing(): { deadline: Deadline; fired: Promise<number>; count: () => number } {
  let n = 0;
  let resolve: (at: number) => void = () => {};
  const fired = new Promise<number>((r) => {
    resolve = r;
  });
  const deadline = new Deadline(() => {
    n++;
    resolve(performance.now());
  });
  return { deadline, fired, count: () => n };
}

test('fires once, no earlier than a deadline moved later', async () => {
  const t = firing();
  t.deadline.set(20);
  const moved = performance.now();
  t.deadline.set(40); // the pending 20 ms timer fires first and re-arms for the rest
  const at = await withTimeout(t.fired, 5_000, 'deadline to fire');
  // SLACK_MS: it may fire up to 1 ms before the deadline, never earlier.
  assert.ok(at >= moved + 39, `fired ${at - moved} ms after the move`);
  // "Once": a second deadline set after the first fired has fired too, the first still once.
  const later = firing();
  later.deadline.set(20);
  await withTimeout(later.fired, 5_000, 'a later deadline to fire');
  assert.equal(t.count(), 1);
  assert.equal(t.deadline.armed, false);
});

test('a deadline moved earlier fires at the earlier time', async () => {
  const t = firing();
  t.deadline.set(60_000);
  const moved = performance.now();
  t.deadline.set(10);
  const at = await withTimeout(t.fired, 5_000, 'the earlier deadline to fire');
  assert.ok(at >= moved + 9);
  t.deadline.dispose();
});

test('clear and dispose stop it from firing', async () => {
  const cleared = firing();
  cleared.deadline.set(5);
  cleared.deadline.clear();
  const disposed = firing();
  disposed.deadline.set(5);
  disposed.deadline.dispose();
  const later = firing();
  later.deadline.set(30);
  await withTimeout(later.fired, 5_000, 'a later deadline to fire');
  assert.equal(cleared.count(), 0);
  assert.equal(disposed.count(), 0);
});
