/**
 * The end-to-end claim: the demo with --guard gives the probe nothing to find, in every
 * group, even with the clientError listener that destroys (the guard answers for it); the same
 * demo unguarded is found.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLI } from '../helpers/paths.js';
import { spawnNode } from '../helpers/process.js';

// Node's default keep-alive (5 s + 1 s) is under the 8 s "proxy"; the guard's 95 s is over it.
const FAST = [
  '--proxy',
  '8s',
  '--keepalive-wait',
  '9s',
  '--race-count',
  '5',
  '--slow-wait',
  '1500ms',
  '--drip',
  '200ms',
  '--timeout',
  '3s',
  '--sigterm-gap',
  '300ms',
  '--shutdown-wait',
  '10s',
  '--crash-path',
  '/throw',
  '--path',
  '/slow?ms=50',
  '--json',
];

async function probeDemo(...demoArgs: string[]) {
  const p = spawnNode(CLI, [
    'probe',
    '--spawn',
    ...FAST,
    '--',
    process.execPath,
    CLI,
    'demo',
    '--host',
    '127.0.0.1',
    ...demoArgs,
  ]);
  const code = await p.exited(120_000);
  const report = JSON.parse(p.stdout()) as {
    findings: Array<{ group: string; id: string; code: string }>;
  };
  return { code, report };
}

test('the guarded demo has no findings in any group, even with a destroying clientError listener', async () => {
  const { code, report } = await probeDemo('--guard', '--client-error', 'destroy');
  // Every case answered, the bad target with a large body too: the guard lingers after its
  // 400 (reads and discards the body, RFC 9112 §9.6) so no RST overtakes the answer.
  assert.deepEqual(
    report.findings.map((f) => `${f.group}/${f.id} ${f.code}`),
    [],
  );
  assert.equal(code, 0);
});

test('the same demo unguarded is found: bad clients, keep-alive, shutdown and crash', async () => {
  const { code, report } = await probeDemo('--client-error', 'destroy');
  const groups = new Set(report.findings.map((f) => f.group));
  for (const group of ['bad-requests', 'keepalive', 'shutdown', 'crash'])
    assert.ok(groups.has(group), group);
  assert.equal(code, 1);
});
