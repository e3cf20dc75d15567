import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import express from 'express';
import fastify from 'fastify';
import { freePort } from '../../src/core/ports.js';
import { nodeServer, type Started } from '../fixtures/probe-servers.js';
import { CLI } from '../helpers/paths.js';
import { spawnNode } from '../helpers/process.js';
import {
  badRequestIdsBeyondRstRace,
  findingIds,
  type Json,
  NODE_DEFAULT_RST_RACE,
  probe,
  probeJson,
} from './helpers.js';
import { checkReport } from './schema-check.js';

test("plain Node 20: every bad request is answered, no bad-request findings but Node's own race (exit 0 without it)", async () => {
  const server = await nodeServer();
  try {
    const { code, report } = await probeJson(['--only', 'bad-requests', server.url]);
    checkReport(report);
    // Node's own race (helpers.ts): its 400 to the bad target with a large body can be lost
    // to the RST of its close; every other case must be answered.
    assert.deepEqual(badRequestIdsBeyondRstRace(report), []);
    const race = report.badRequests.cases.find((c: Json) => c.id === NODE_DEFAULT_RST_RACE);
    const raced = race.ending === 'silent' || race.ending === 'reset' ? 1 : 0;
    assert.equal(
      report.badRequests.endings.silent + report.badRequests.endings.reset,
      1 + raced,
      'only CONNECT (and the race when it happened)',
    );
    const connect = report.badRequests.cases.find((c: Json) => c.id === 'connect-method');
    assert.deepEqual(
      [connect.ending, connect.router.kind, connect.finding],
      ['silent', 'reject', null],
    );
    // The race, when it happened, is the run's one finding, and a finding exits 1.
    const raceFound = findingIds(report, 'bad-requests').includes(NODE_DEFAULT_RST_RACE);
    assert.equal(code, raceFound ? 1 : 0);
  } finally {
    await server.close();
  }
});

test('plain Node 20: the keep-alive timeout below the proxy idle timeout is a finding (exit 1)', async () => {
  const server = await nodeServer({ keepAliveTimeout: 100 });
  try {
    const { code, report } = await probeJson([
      '--only',
      'keepalive',
      '--proxy',
      '5s',
      '--keepalive-wait',
      '5s',
      '--race-count',
      '6',
      server.url,
    ]);
    checkReport(report);
    assert.equal(report.keepAlive.outcome, 'closed');
    // Node 20 closes keepAliveTimeout + 1 s after the response.
    assert.ok(report.keepAlive.idleTimeoutMs >= 100 && report.keepAlive.idleTimeoutMs < 5000);
    assert.deepEqual(findingIds(report, 'keepalive'), ['idle-timeout']);
    assert.equal(report.keepAlive.race.sent + report.keepAlive.race.closedFirst <= 6, true);
    assert.equal(code, 1);
  } finally {
    await server.close();
  }
});

test('a keep-alive timeout above the proxy idle timeout is not a finding', async () => {
  const server = await nodeServer({ keepAliveTimeout: 100 });
  try {
    const { code, report } = await probeJson([
      '--only',
      'keepalive',
      '--proxy',
      '200ms',
      '--keepalive-wait',
      '5s',
      '--race-count',
      '0',
      server.url,
    ]);
    assert.equal(report.keepAlive.outcome, 'closed');
    assert.equal(report.keepAlive.race, null);
    assert.deepEqual(report.findings, []);
    assert.equal(code, 0);
  } finally {
    await server.close();
  }
});

test("a 'clientError' listener that destroys: every forwarded malformed request is a finding", async () => {
  const plain = await nodeServer();
  const destroying = await nodeServer({ clientError: 'destroy' });
  try {
    const base = await probeJson(['--only', 'bad-requests', plain.url]);
    const { code, report } = await probeJson(['--only', 'bad-requests', destroying.url]);
    checkReport(report);
    // The plain server's own 400 to the large-body case can be lost to its RST (Node's race,
    // helpers.ts), so that case is compared apart: the destroying listener never answers it.
    const rejectedByNode = (base.report.badRequests.cases as Json[])
      .filter((c) => c.router.kind === 'forward' && c.status >= 400)
      .map((c) => c.id as string)
      .filter((id) => id !== NODE_DEFAULT_RST_RACE);
    assert.ok(rejectedByNode.length >= 10, `${rejectedByNode.length} forwarded malformed cases`);
    assert.ok(rejectedByNode.includes('seed-qmark-target'));
    assert.deepEqual(badRequestIdsBeyondRstRace(report).sort(), rejectedByNode.sort());
    assert.ok(findingIds(report, 'bad-requests').includes(NODE_DEFAULT_RST_RACE));
    for (const c of report.badRequests.cases as Json[]) {
      if (c.finding !== null) assert.equal(c.finding.code, 'H13');
    }
    assert.equal(code, 1);
  } finally {
    await plain.close();
    await destroying.close();
  }
});

// Requests the router forwards as sent and Node's parser rejects.
const DEMO_CASES = [
  'seed-qmark-target',
  'utf8-in-target',
  'lowercase-method',
  'unknown-method',
  'long-method',
  'fields-18k-in-small-lines',
];

for (const mode of ['default', 'answer', 'destroy'] as const) {
  test(`the demo with --client-error=${mode}`, async () => {
    const demo = spawnNode(CLI, [
      'demo',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      `--client-error=${mode}`,
    ]);
    try {
      const [, url] = (await demo.waitFor(/demo listening on (http:\/\/\S+)/)) as unknown as [
        string,
        string,
      ];
      const cases = DEMO_CASES.flatMap((id) => ['--case', id]);
      const { code, report } = await probeJson(['--only', 'bad-requests', ...cases, `${url}/`]);
      checkReport(report);
      assert.equal(report.badRequests.total, DEMO_CASES.length);
      const ids = findingIds(report, 'bad-requests');
      if (mode === 'destroy') {
        assert.deepEqual(ids, DEMO_CASES);
        assert.equal(code, 1);
      } else {
        assert.deepEqual(ids, []);
        assert.equal(code, 0);
      }
    } finally {
      demo.kill();
    }
  });
}

async function listening(
  listen: (port: number) => Promise<unknown>,
  close: () => Promise<unknown>,
): Promise<Started> {
  const port = await freePort();
  await listen(port);
  return { port, url: `http://127.0.0.1:${port}/`, close: async () => void (await close()) };
}

test('an Express 5 app: bad requests all answered (Node default)', async () => {
  const app = express();
  app.all('/', (_req, res) => {
    res.send('ok');
  });
  let server: ReturnType<typeof app.listen> | undefined;
  const started = await listening(
    (port) =>
      new Promise<void>((resolve) => {
        server = app.listen(port, '127.0.0.1', () => resolve());
      }),
    () =>
      new Promise<void>((resolve) => {
        server?.closeAllConnections();
        server?.close(() => resolve());
      }),
  );
  try {
    const { code, report } = await probeJson(['--only', 'bad-requests', started.url]);
    checkReport(report);
    // Express answers bad requests with Node's default, which can lose the 400 of the bad
    // target with a large body to an RST (Node's race, a finding when it happens): left out.
    assert.deepEqual(badRequestIdsBeyondRstRace(report), []);
    assert.equal(code, findingIds(report, 'bad-requests').length === 0 ? 0 : 1);
  } finally {
    await started.close();
  }
});

test('a Fastify 5 app: its clientError handler answers, so no bad-request findings', async () => {
  const app = fastify();
  app.all('/', async () => 'ok');
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  try {
    const { code, report } = await probeJson([
      '--only',
      'bad-requests',
      `http://127.0.0.1:${port}/`,
    ]);
    checkReport(report);
    // Fastify's listener writes its 400 and destroys the socket at once, unguarded: with a
    // large body unread that close can send RST before the 400 is read (Node's race, seen in
    // CI on Node 22; the guard's linger is the fix). Left out as for Express; every other
    // case must be answered.
    assert.deepEqual(badRequestIdsBeyondRstRace(report), []);
    assert.equal(code, findingIds(report, 'bad-requests').length === 0 ? 0 : 1);
  } finally {
    app.server.closeAllConnections();
    await app.close();
  }
});

test('timeouts: Node answers idle, slow-head and slow-body clients with 408', async () => {
  const server = await nodeServer({ requestTimeout: 200 });
  try {
    const { code, report } = await probeJson([
      '--only',
      'timeouts',
      '--slow-wait',
      '10s',
      '--drip',
      '20ms',
      server.url,
    ]);
    checkReport(report);
    assert.deepEqual(
      report.timeouts.map((t: Json) => t.id),
      ['idle-connection', 'slow-head', 'slow-body'],
    );
    for (const t of report.timeouts as Json[])
      assert.deepEqual([t.ending, t.status], ['answered', 408]);
    assert.deepEqual(report.findings, []);
    assert.equal(code, 0);
  } finally {
    await server.close();
  }
});

test("timeouts: a 'clientError' listener that destroys turns the slow-body 408 into an H13", async () => {
  const server = await nodeServer({ requestTimeout: 200, clientError: 'destroy' });
  try {
    const { code, report } = await probeJson([
      '--only',
      'timeouts',
      '--slow-wait',
      '10s',
      '--drip',
      '20ms',
      server.url,
    ]);
    checkReport(report);
    // Closed without an answer: a FIN, or an RST when drip bytes were still unread in the
    // server's receive buffer as it destroyed the socket (Linux resets then). A race, and
    // the probe judges both the same.
    for (const t of report.timeouts as Json[])
      assert.ok(t.ending === 'silent' || t.ending === 'reset', `${t.id}: ${t.ending}`);
    assert.deepEqual(findingIds(report, 'timeouts'), ['slow-body']);
    assert.equal(code, 1);
  } finally {
    await server.close();
  }
});

test('exit codes: 2 for usage errors, 3 when nothing listens', async () => {
  assert.equal((await probe(['--bogus', 'http://127.0.0.1:1/'])).code, 2);
  assert.equal((await probe(['--only', 'nope', 'http://127.0.0.1:1/'])).code, 2);
  assert.equal((await probe([])).code, 2);
  assert.equal((await probe(['--only', 'shutdown', 'http://127.0.0.1:1/'])).code, 2);
  assert.equal((await probe(['--proxy', 'soon', 'http://127.0.0.1:1/'])).code, 2);
  const port = await freePort();
  const refused = await probe(['--only', 'bad-requests', `http://127.0.0.1:${port}/`]);
  assert.equal(refused.code, 3);
  assert.match(refused.stderr, /cannot connect/);
});

test('the text report names findings, cause and fix, without colour when not a TTY', async () => {
  const server = await nodeServer({ clientError: 'destroy' });
  try {
    const run = await probe(['--only', 'bad-requests', server.url]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /seed-qmark-target +request-line +forward +silent/);
    assert.match(run.stdout, /Findings: \d+/);
    assert.match(run.stdout, /cause: .*clientError/);
    assert.doesNotMatch(run.stdout, /\x1b\[/);
  } finally {
    await server.close();
  }
});
