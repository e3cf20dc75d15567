/**
 * `h13 probe` says what it is doing while it runs (stderr: plain lines off a terminal, one
 * line rewritten in place on one), and prints a short report by default, every case with --full.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressWriter } from '../../src/probe/progress.js';
import { nodeServer } from '../fixtures/probe-servers.js';
import { probe } from './helpers.js';

function capture(isTTY: boolean) {
  let text = '';
  return {
    out: { isTTY, write: (s: string) => (text += s) },
    text: () => text,
  };
}

describe('probe progress', () => {
  it('off a terminal: one plain line per step, no carriage return, repeats skipped', () => {
    const c = capture(false);
    const p = progressWriter(c.out);
    p.update('bad requests 1/2');
    p.update('bad requests 1/2');
    p.update('bad requests 2/2');
    p.done();
    assert.equal(c.text(), 'h13 probe: bad requests 1/2\nh13 probe: bad requests 2/2\n');
  });

  it('on a terminal: one line rewritten in place, cleared when done', () => {
    const c = capture(true);
    const p = progressWriter(c.out);
    p.update('keep-alive: waiting');
    p.update('bad requests 3/140');
    p.done();
    assert.equal(
      c.text(),
      '\r\x1b[2Kh13 probe: keep-alive: waiting\r\x1b[2Kh13 probe: bad requests 3/140\r\x1b[2K',
    );
    assert.doesNotMatch(c.text(), /\n/);
  });

  it('the CLI reports progress on stderr, a summary by default and every case with --full', async () => {
    const server = await nodeServer({ clientError: 'destroy' });
    try {
      const args = [
        '--only',
        'bad-requests',
        '--case',
        'seed-qmark-target',
        '--case',
        'te-uppercase',
      ];
      const short = await probe([...args, server.url]);
      assert.match(short.stderr, /^h13 probe: bad requests 0\/2$/m);
      assert.match(short.stderr, /^h13 probe: bad requests 2\/2$/m);
      assert.match(short.stdout, /seed-qmark-target/);
      assert.doesNotMatch(short.stdout, /te-uppercase/);
      assert.match(short.stdout, /1 more cases without a finding: --full lists them/);
      assert.match(short.stdout, /^ {2}case {2,}group {2,}router {2,}ending {2,}status$/m);
      const full = await probe([...args, '--full', '--quiet', server.url]);
      assert.match(full.stdout, /te-uppercase/);
      assert.equal(full.stderr, '');
      // No finding: no column header over an empty table, and the count says so plainly.
      const clean = await probe([
        '--only',
        'bad-requests',
        '--case',
        'te-uppercase',
        '--quiet',
        server.url,
      ]);
      assert.doesNotMatch(clean.stdout, /^ {2}case {2,}group/m);
      assert.match(clean.stdout, /\(no case is a finding: --full lists all 1\)/);
    } finally {
      await server.close();
    }
  });
});
