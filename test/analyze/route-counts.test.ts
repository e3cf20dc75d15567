import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseRoute } from '../../src/analyze/route.js';
import { RouteCounts } from '../../src/analyze/route-counts.js';
import { formatRouterMessage, parseRouterMessage } from '../../src/core/router-line.js';
import { rng, routerRecord } from './analyze-helpers.js';

const PATHS = ['/', '/orders/42', '/orders/43?x=1', '/a b', '/q?x="1"', '/\\"', '/é', '?odd', '*'];
const TOKENS = ['"', '\\', ' ', '/', '?', '#', '1', 'path=', '%', 'é', '\u0000'];

/** A line with a few random edits (inside the path and around it). */
function mutate(line: string, rand: () => number): string {
  const chars = [...line];
  const at0 = line.indexOf('path=');
  for (let i = Math.floor(rand() * 4); i > 0; i--) {
    const at = Math.max(0, at0 + Math.floor((rand() - 0.2) * 40));
    const op = rand();
    if (op < 0.3) chars.splice(at, 1);
    else chars.splice(at, 0, TOKENS[Math.floor(rand() * TOKENS.length)] as string);
  }
  return chars.join('');
}

describe('requests per route: the byte reading agrees with the router-line reader', () => {
  it('on mutated lines, every line counts under the route its parsed path gives', () => {
    const rand = rng(15);
    let compared = 0;
    for (let i = 0; i < 5000; i++) {
      const path = `${PATHS[Math.floor(rand() * PATHS.length)]}${rand() < 0.5 ? String(i) : ''}`;
      const message = mutate(
        formatRouterMessage(routerRecord({ at: 'info', code: null, path })),
        rand,
      );
      const r = parseRouterMessage(message);
      // One `path=` key (a repeated key is read last-wins by the reader, first by the bytes).
      if (r === null || message.split('path=').length !== 2 || !message.includes(' path='))
        continue;
      const counts = new RouteCounts();
      const bytes = Buffer.from(
        `2026-03-02T10:15:05.010002+00:00 heroku[router]: ${message}`,
        'latin1',
      );
      counts.countBytes(bytes, 0, bytes.length);
      const want = normaliseRoute(Buffer.from(r.path, 'latin1').toString('latin1'));
      assert.deepEqual([...counts.totals()], [[want, 1]], message);
      compared++;
    }
    assert.ok(compared > 3000, `only ${compared} lines compared`);
  });

  it('ids fold into one route; distinct routes stay apart', () => {
    const counts = new RouteCounts();
    for (const p of ['/orders/1', '/orders/22?x', '/orders/333', '/users/1', '/orders/abc']) {
      const b = Buffer.from(`at=info method=GET path="${p}" host=a`, 'latin1');
      counts.countBytes(b, 0, b.length);
    }
    assert.deepEqual([...counts.totals()].sort(), [
      ['/orders/:id', 3],
      ['/orders/abc', 1],
      ['/users/:id', 1],
    ]);
  });
});
