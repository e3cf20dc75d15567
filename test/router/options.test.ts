/**
 * The router's options are checked once, at the library API (startRouter), as the CLI checks
 * its flags: a bad timer or limit is an H13Error with code H13_ERR_INVALID_OPTION naming it.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H13Error } from '../../src/core/errors.js';
import { startRouter, staticDynos } from '../../src/router/index.js';
import { DEFAULT_LIMITS, HEROKU_TIMERS, ROUTER_OPTIONS } from '../../src/router/options.js';

const dynos = staticDynos([]);
const refused = async (options: Record<string, unknown>, field: string) => {
  await assert.rejects(
    startRouter({ dynos, ...options }),
    (err: unknown) =>
      err instanceof H13Error && err.code === 'H13_ERR_INVALID_OPTION' && err.field === field,
  );
};

test('startRouter refuses a negative, NaN, infinite or non-number timer', async () => {
  await refused({ timers: { firstByte: -5 } }, 'timers.firstByte');
  await refused({ timers: { idle: Number.NaN } }, 'timers.idle');
  await refused({ timers: { connect: Number.POSITIVE_INFINITY } }, 'timers.connect');
  await refused({ timers: { clientHead: '5s' } }, 'timers.clientHead');
  await refused({ timers: { lateRouting: -1 } }, 'timers.lateRouting');
});

test('startRouter refuses a limit that is not a whole number >= 1', async () => {
  await refused({ limits: { maxConnections: 0 } }, 'limits.maxConnections');
  await refused({ limits: { backlogPerDyno: 1.5 } }, 'limits.backlogPerDyno');
  await refused({ limits: { maxHeadBytes: Number.NaN } }, 'limits.maxHeadBytes');
});

test('the CLI table and the library defaults are the same values', () => {
  assert.equal(ROUTER_OPTIONS['request-timeout'].default, HEROKU_TIMERS.firstByte);
  assert.equal(ROUTER_OPTIONS['max-connections'].default, DEFAULT_LIMITS.maxConnections);
  assert.equal(ROUTER_OPTIONS.backlog.default, DEFAULT_LIMITS.backlogPerDyno);
});
