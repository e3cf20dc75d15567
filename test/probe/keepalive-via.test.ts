/**
 * Probing h13's own router (what `h13 run` listens on) measures the router's idle close, not the
 * app's: the keep-alive finding must say so instead of blaming Node's keepAliveTimeout.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogSink } from '../../src/core/log-sink.js';
import { startRouter, staticDynos } from '../../src/router/index.js';
import { nodeServer } from '../fixtures/probe-servers.js';
import { type Json, probeJson } from './helpers.js';

const KEEPALIVE = ['--only', 'keepalive', '--proxy', '5s', '--keepalive-wait', '5s'];

test('keep-alive finding through a router names the router, not the app', async () => {
  const app = await nodeServer({ keepAliveTimeout: 60_000 });
  const router = await startRouter({
    dynos: staticDynos([{ host: '127.0.0.1', port: app.port }]),
    port: 0,
    timers: { clientHead: 300 },
    log: createLogSink('heroku', { write: () => true } as unknown as NodeJS.WritableStream),
  });
  try {
    const { report } = await probeJson([...KEEPALIVE, '--race-count', '0', router.url]);
    const finding = (report.findings as Json[]).find((f) => f.id === 'idle-timeout');
    assert.ok(finding, JSON.stringify(report.findings));
    assert.match(finding.cause, /^The answer came through a proxy \(Via: [^)]*heroku-router\)/);
    assert.doesNotMatch(finding.cause, /keepAliveTimeout/);
  } finally {
    await router.close();
    await app.close();
  }
});

test('keep-alive finding on the app itself still names Node keepAliveTimeout', async () => {
  const app = await nodeServer({ keepAliveTimeout: 300 });
  try {
    const { report } = await probeJson([...KEEPALIVE, '--race-count', '0', app.url]);
    const finding = (report.findings as Json[]).find((f) => f.id === 'idle-timeout');
    assert.ok(finding, JSON.stringify(report.findings));
    assert.match(finding.cause, /^Node's server\.keepAliveTimeout/);
  } finally {
    await app.close();
  }
});
