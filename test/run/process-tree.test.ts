/**
 * Everything of a dyno dies with it, and with `h13 run`: SIGKILL of h13, a second SIGTERM or
 * Ctrl-C during the drain. Processes are found by a marker in their environment (inherited by
 * every descendant, whatever its PID namespace or session), so the check needs no PID from
 * inside a namespace.
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { detectIsolation } from '../../src/run/dyno-scope.js';
import { CLI, fixture } from '../helpers/paths.js';
import { spawnNode } from '../helpers/process.js';
import { until } from '../helpers/wait.js';

/** PIDs of live (not zombie) processes whose environment holds `MARK=<mark>`. */
function marked(mark: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'latin1');
      if (!env.includes(`H13_TEST_MARK=${mark}\0`)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      if (/\) Z /.test(stat)) continue;
      found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

function killMarked(mark: string): void {
  for (const pid of marked(mark)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

const namespaces = process.platform === 'linux' && detectIsolation() === 'pid-namespace';

function start(mark: string, isolation: string, appArgs: string[] = []) {
  return spawnNode(
    CLI,
    [
      'run',
      '--port',
      '0',
      '--grace',
      '30s',
      '--isolation',
      isolation,
      '--',
      process.execPath,
      fixture('run-family'),
      ...appArgs,
    ],
    { env: { H13_TEST_MARK: mark } },
  );
}

describe('h13 run: nothing of a dyno survives', { skip: process.platform !== 'linux' }, () => {
  it('SIGKILL of h13 run (PID namespace): the app, its child and its setsid child all die', {
    skip: namespaces ? false : 'unshare is not permitted here',
  }, async () => {
    const mark = randomUUID();
    const p = start(mark, 'pid-namespace');
    try {
      await p.waitFor(/family ready/);
      // h13, unshare, the init, the app, its two children.
      assert.ok(marked(mark).length >= 5, `marked: ${marked(mark)}`);
      p.child.kill('SIGKILL');
      await p.exited();
      await until(() => marked(mark).length === 0, 10_000, `no process left: ${marked(mark)}`);
    } finally {
      p.kill();
      killMarked(mark);
    }
  });

  it('SIGKILL of h13 run (process group): the app and the child in its group die', async () => {
    const mark = randomUUID();
    const p = start(mark, 'process-group');
    try {
      await p.waitFor(/family ready/);
      p.child.kill('SIGKILL');
      await p.exited();
      // The setsid child left the group: the fallback cannot reach it (docs/run.md says so).
      await until(
        () => marked(mark).length <= 1,
        10_000,
        `only the setsid child left: ${marked(mark)}`,
      );
    } finally {
      p.kill();
      killMarked(mark);
    }
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`a second ${signal} during the drain exits at once and kills every dyno`, {
      skip: namespaces ? false : 'unshare is not permitted here',
    }, async () => {
      const mark = randomUUID();
      const p = start(mark, 'pid-namespace', ['--ignore-sigterm']);
      try {
        await p.waitFor(/family ready/);
        p.child.kill(signal);
        await p.waitFor(/Stopping all processes with SIGTERM/);
        await p.waitFor(/again: at once/);
        p.child.kill(signal);
        assert.equal(await p.exited(5000), 1);
        assert.match(p.stderr(), /again: killing every dyno now/);
        await until(() => marked(mark).length === 0, 10_000, `no process left: ${marked(mark)}`);
      } finally {
        p.kill();
        killMarked(mark);
      }
    });
  }
});
