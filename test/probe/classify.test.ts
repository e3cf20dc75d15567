import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runBadRequests } from '../../src/probe/bad-requests.js';
import { BATTERY } from '../../src/probe/battery.js';
import type { ProbeTarget } from '../../src/probe/target.js';
import { RAW_ENDINGS, rawServer } from '../fixtures/probe-servers.js';

const SEED = BATTERY[0]!;
const EXPECTED_CODE = {
  answered: null,
  truncated: 'H18',
  silent: 'H13',
  reset: 'H13',
  open: 'H12',
};

for (const ending of RAW_ENDINGS) {
  test(`a server that ends every exchange "${ending}" is classified ${ending}`, async () => {
    const server = await rawServer(ending);
    try {
      const target: ProbeTarget = {
        host: '127.0.0.1',
        port: server.port,
        hostHeader: `127.0.0.1:${server.port}`,
        path: '/',
      };
      // The deadline only matters for "open"; every other ending arrives before it.
      const [r] = await runBadRequests(target, { cases: [SEED], timeoutMs: 300, concurrency: 1 });
      assert.ok(r !== undefined);
      assert.equal(r.ending, ending);
      assert.equal(r.router.kind, 'forward');
      assert.equal(r.finding?.code ?? null, EXPECTED_CODE[ending]);
      if (ending === 'answered') assert.equal(r.status, 400);
      if (r.finding !== null) {
        assert.match(r.finding.summary, /behind Heroku this request is an H1[238]/);
        assert.ok(r.finding.cause.length > 0 && r.finding.fix.length > 0);
      }
    } finally {
      await server.close();
    }
  });
}

test('a reset of the bad target with a large body names the 400 lost to an RST (RFC 9112 §9.6), not a destroying listener', async () => {
  const server = await rawServer('reset');
  try {
    const target: ProbeTarget = {
      host: '127.0.0.1',
      port: server.port,
      hostHeader: `127.0.0.1:${server.port}`,
      path: '/',
    };
    const def = BATTERY.find((c) => c.id === 'malformed-target-large-body');
    assert.ok(def !== undefined);
    const [r] = await runBadRequests(target, { cases: [def], timeoutMs: 3000, concurrency: 1 });
    assert.equal(r?.ending, 'reset');
    assert.equal(r?.finding?.code, 'H13');
    assert.match(r?.finding?.cause ?? '', /body unread.*RST.*§9\.6/s);
    assert.match(r?.finding?.fix ?? '', /guard/);
  } finally {
    await server.close();
  }
});
