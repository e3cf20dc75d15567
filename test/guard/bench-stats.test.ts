import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatMeanRow, meanCi, summarize, t975 } from '../../bench/guard/stats.js';

/** The throughput benchmark judges the 3 % target by this interval, so its arithmetic is checked. */
describe('bench: mean and confidence interval of paired ratios', () => {
  it("takes Student's t from the table, the row below between rows, 1.96 past 120", () => {
    assert.equal(t975(1), 12.706);
    assert.equal(t975(2), 4.303);
    assert.equal(t975(30), 2.042);
    assert.equal(t975(35), 2.042);
    assert.equal(t975(59), 2.021);
    assert.equal(t975(60), 2.0);
    assert.equal(t975(120), 1.98);
    assert.equal(t975(121), 1.96);
    assert.throws(() => t975(0), /at least one degree of freedom/);
  });

  it('gives the mean and the half-width t·s/√n, and no interval for one value', () => {
    const three = meanCi([1, 2, 3]);
    assert.equal(three.mean, 2);
    // s = 1, n = 3, t(2) = 4.303
    assert.ok(Math.abs((three.half ?? 0) - 4.303 / Math.sqrt(3)) < 1e-12, String(three.half));
    assert.deepEqual(meanCi([0.05]), { mean: 0.05, half: undefined });
  });

  it('pairs each round with the bare server of the same round', () => {
    const bare = [
      { rps: 100, cpuUs: 10, userUs: 5 },
      { rps: 50, cpuUs: 20, userUs: 10 },
    ];
    const guard = [
      { rps: 97, cpuUs: 10.3, userUs: 5.2 },
      { rps: 49, cpuUs: 20.8, userUs: 10.6 },
    ];
    const s = summarize(guard, bare);
    assert.ok(Math.abs(s.cpuVsBareMean.mean - 0.035) < 1e-12, String(s.cpuVsBareMean.mean));
    assert.ok(Math.abs(s.rpsVsBareMean.mean - -0.025) < 1e-12, String(s.rpsVsBareMean.mean));
    assert.match(formatMeanRow('guard', s), /^guard +-2\.5% \[.*\] +\+3\.5% \[/);
  });
});
