import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRequestHead } from '../../src/http/request-head.js';
import { BATTERY, renderCase } from '../../src/probe/battery.js';
import { CASE_GROUPS } from '../../src/probe/battery-types.js';
import { routerVerdict } from '../../src/probe/router-verdict.js';

const TARGET = { hostHeader: '127.0.0.1:3000', path: '/' };

test('the battery has at least 60 distinct cases, the seed first', () => {
  assert.ok(BATTERY.length >= 60, `only ${BATTERY.length} cases`);
  assert.equal(BATTERY[0]?.id, 'seed-qmark-target');
  assert.match(
    renderCase(BATTERY[0]!, TARGET).toString('latin1'),
    /^GET \?invalid=request HTTP\/1\.1\r\n/,
  );
  const ids = new Set(BATTERY.map((c) => c.id));
  assert.equal(ids.size, BATTERY.length, 'case ids are unique');
  const bytes = new Set(BATTERY.map((c) => renderCase(c, TARGET).toString('latin1')));
  assert.equal(bytes.size, BATTERY.length, 'every case sends different bytes');
});

test('every case has a known group, an RFC note and a valid acceptable set', () => {
  for (const c of BATTERY) {
    assert.ok(c.group in CASE_GROUPS, `${c.id}: group ${c.group}`);
    assert.match(c.rfc, /§/, `${c.id}: the RFC note cites a section`);
    if (c.accept !== 'any') {
      assert.ok(c.accept.length > 0, c.id);
      for (const s of c.accept) assert.ok(s >= 400 && s < 600, `${c.id}: ${s}`);
    }
  }
  for (const g of Object.keys(CASE_GROUPS)) {
    assert.ok(
      BATTERY.some((c) => c.group === g),
      `group ${g} has cases`,
    );
  }
});

test("every router verdict agrees with the router's parseRequestHead", () => {
  for (const c of BATTERY) {
    const bytes = renderCase(c, TARGET);
    const verdict = routerVerdict(bytes);
    const parsed = parseRequestHead(bytes);
    if (parsed.kind === 'reject') {
      assert.equal(verdict.kind, 'reject', c.id);
      assert.equal(verdict.status, parsed.status, c.id);
    } else if (parsed.kind === 'incomplete') {
      assert.equal(verdict.kind, 'incomplete', c.id);
    } else if (verdict.kind === 'forward') {
      assert.equal(parsed.head.h26, null, c.id);
      assert.equal(
        parsed.head.length,
        bytes.length - bodyLength(parsed.head.framing, bytes, parsed.head.length),
        c.id,
      );
    }
  }
});

test('the seed case is forwarded by the router as sent; CONNECT is answered by the router', () => {
  const byId = new Map(BATTERY.map((c) => [c.id, c]));
  assert.equal(routerVerdict(renderCase(byId.get('seed-qmark-target')!, TARGET)).kind, 'forward');
  const connect = routerVerdict(renderCase(byId.get('connect-method')!, TARGET));
  assert.deepEqual([connect.kind, connect.status], ['reject', 405]);
  assert.equal(
    routerVerdict(renderCase(byId.get('chunk-size-non-hex')!, TARGET)).reason.startsWith(
      'H26 bad chunk',
    ),
    true,
  );
  assert.equal(routerVerdict(renderCase(byId.get('pipelined-two-gets')!, TARGET)).kind, 'split');
  // cowboyku, vegur's HTTP layer, refuses bare-LF heads: so does the router (400).
  assert.equal(routerVerdict(renderCase(byId.get('bare-lf-field-line')!, TARGET)).kind, 'reject');
});

function bodyLength(
  framing: { kind: string; length?: number },
  bytes: Buffer,
  headLength: number,
): number {
  return framing.kind === 'none'
    ? 0
    : framing.kind === 'length'
      ? (framing.length ?? 0)
      : bytes.length - headLength;
}
