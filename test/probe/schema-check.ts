/**
 * Checks a parsed `h13 probe --json` report against the schema documented in docs/probe.md
 * (h13-probe/1): every documented field present with its type.
 */

import assert from 'node:assert/strict';
import type { Json } from './helpers.js';

const ENDINGS = ['answered', 'truncated', 'silent', 'reset', 'open', 'refused'];
const CODES = ['H13', 'H18', 'H12', 'H21'];

function num(v: unknown, what: string): void {
  assert.equal(typeof v, 'number', what);
}
function str(v: unknown, what: string): void {
  assert.equal(typeof v, 'string', what);
}
function numOrNull(v: unknown, what: string): void {
  assert.ok(v === null || typeof v === 'number', what);
}

export function checkFinding(f: Json): void {
  assert.ok(
    ['bad-requests', 'keepalive', 'timeouts', 'shutdown', 'crash'].includes(f.group),
    f.group,
  );
  str(f.id, 'finding.id');
  assert.ok(CODES.includes(f.code), f.code);
  for (const k of ['summary', 'cause', 'fix']) str(f[k], `finding.${k}`);
}

function checkCounts(c: Json, what: string): void {
  for (const k of ['answered', 'refused', 'silent', 'reset', 'truncated', 'open'])
    num(c[k], `${what}.${k}`);
}

export function checkReport(r: Json): void {
  assert.equal(r.schema, 'h13-probe/1');
  str(r.target.host, 'target.host');
  num(r.target.port, 'target.port');
  str(r.target.path, 'target.path');
  assert.ok(r.target.command === null || Array.isArray(r.target.command));
  str(r.proxy.name, 'proxy.name');
  str(r.proxy.label, 'proxy.label');
  num(r.proxy.idleMs, 'proxy.idleMs');
  assert.ok(Array.isArray(r.groups));
  num(r.durationMs, 'durationMs');
  assert.ok(Array.isArray(r.findings));
  r.findings.forEach(checkFinding);
  for (const k of ['badRequests', 'keepAlive', 'timeouts', 'shutdown', 'crash'])
    assert.ok(k in r, k);
  if (r.badRequests !== null) {
    const b = r.badRequests;
    num(b.total, 'total');
    num(b.forwarded, 'forwarded');
    num(b.conforming, 'conforming');
    for (const e of ENDINGS) num(b.endings[e], `endings.${e}`);
    assert.equal(b.cases.length, b.total);
    for (const c of b.cases) {
      for (const k of ['id', 'group', 'request', 'rfc']) str(c[k], `case.${k}`);
      num(c.requestBytes, 'requestBytes');
      assert.ok(c.accept === 'any' || Array.isArray(c.accept));
      assert.ok(['forward', 'rewrite', 'reject', 'split', 'incomplete'].includes(c.router.kind));
      numOrNull(c.router.status, 'router.status');
      str(c.router.reason, 'router.reason');
      assert.ok(ENDINGS.includes(c.ending));
      numOrNull(c.status, 'status');
      assert.ok(['fin', 'rst', 'open'].includes(c.closedBy));
      num(c.bytesReceived, 'bytesReceived');
      num(c.elapsedMs, 'elapsedMs');
      assert.equal(typeof c.conforms, 'boolean');
      assert.ok(c.note === null || typeof c.note === 'string');
      if (c.finding !== null) checkFinding(c.finding);
    }
  }
  if (r.keepAlive !== null) {
    const k = r.keepAlive;
    assert.ok(['closed', 'still-open', 'no-keepalive', 'failed'].includes(k.outcome));
    numOrNull(k.idleTimeoutMs, 'idleTimeoutMs');
    numOrNull(k.advertisedSeconds, 'advertisedSeconds');
    num(k.waitedMs, 'waitedMs');
    if (k.race !== null)
      for (const f of ['sent', 'served', 'lost', 'closedFirst', 'fromMs', 'toMs'])
        num(k.race[f], f);
    k.findings.forEach(checkFinding);
  }
  if (r.timeouts !== null) {
    for (const t of r.timeouts) {
      assert.ok(['idle-connection', 'slow-head', 'slow-body'].includes(t.id));
      str(t.what, 'what');
      assert.ok(ENDINGS.includes(t.ending));
      numOrNull(t.status, 'status');
      num(t.afterMs, 'afterMs');
      num(t.bytesSent, 'bytesSent');
      if (t.finding !== null) checkFinding(t.finding);
    }
  }
  for (const phase of [r.shutdown, r.crash]) {
    if (phase === null) continue;
    assert.ok(['shutdown', 'crash'].includes(phase.phase));
    checkCounts(phase.before, 'before');
    checkCounts(phase.after, 'after');
    num(phase.sigterms, 'sigterms');
    if (phase.exit !== null) {
      numOrNull(phase.exit.code, 'exit.code');
      assert.ok(phase.exit.signal === null || typeof phase.exit.signal === 'string');
      num(phase.exit.afterMs, 'exit.afterMs');
      assert.equal(typeof phase.exit.killed, 'boolean');
    }
    if (phase.crashRequest !== null) assert.ok(ENDINGS.includes(phase.crashRequest.ending));
    assert.ok(Array.isArray(phase.stderrTail));
    phase.findings.forEach(checkFinding);
  }
}
