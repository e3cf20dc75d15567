/** Run the built `h13 probe` as a child process and read its JSON report. */

import assert from 'node:assert/strict';
import { CLI } from '../helpers/paths.js';
import { spawnNode } from '../helpers/process.js';

export interface ProbeRun {
  readonly code: number | string;
  readonly stdout: string;
  readonly stderr: string;
}

export async function probe(args: readonly string[], ms = 30_000): Promise<ProbeRun> {
  const child = spawnNode(CLI, ['probe', ...args]);
  const code = await child.exited(ms);
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

// biome-ignore lint/suspicious/noExplicitAny: a parsed JSON report is checked field by field
export type Json = any;

export async function probeJson(
  args: readonly string[],
  ms?: number,
): Promise<{ code: number | string; report: Json }> {
  const run = await probe(['--json', ...args], ms);
  let report: Json;
  try {
    report = JSON.parse(run.stdout);
  } catch {
    assert.fail(`not JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
  return { code: run.code, report };
}

/** Ids of the findings of one group. */
export function findingIds(report: Json, group: string): string[] {
  return (report.findings as Json[]).filter((f) => f.group === group).map((f) => f.id as string);
}

/**
 * Node's own answer to a bad request closes the socket with the request body unread; the RST
 * that sends can overtake the 400 before the client reads it (RFC 9112 §9.6). So on an
 * *unguarded* Node server the battery's case with a large body is an intermittent, real finding
 * (Node itself has the race, on 22, 24 and 26): tests of Node's default answers leave that one
 * case out and check every other. The guard lingers after its answers and never loses it,
 * which test/probe/guarded-demo.test.ts requires.
 */
export const NODE_DEFAULT_RST_RACE = 'malformed-target-large-body';

/** Bad-request finding ids other than NODE_DEFAULT_RST_RACE. */
export function badRequestIdsBeyondRstRace(report: Json): string[] {
  return findingIds(report, 'bad-requests').filter((id) => id !== NODE_DEFAULT_RST_RACE);
}
