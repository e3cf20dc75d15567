import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  H25_DESCS,
  H26_CAUSES,
  ROUTER_CODE_NAMES,
  ROUTER_CODES,
  statusFor,
} from '../../src/core/codes.js';

describe('router code table', () => {
  it('has every code of the spec with its exact desc, level and status', () => {
    assert.deepEqual(ROUTER_CODE_NAMES, [
      'H10',
      'H11',
      'H12',
      'H13',
      'H14',
      'H15',
      'H17',
      'H18',
      'H19',
      'H20',
      'H21',
      'H22',
      'H24',
      'H25',
      'H26',
      'H27',
      'H28',
      'H80',
      'H81',
      'H82',
      'H99',
    ]);
    assert.equal(ROUTER_CODES.H13.desc, 'Connection closed without response');
    assert.equal(ROUTER_CODES.H18.desc, 'Server Request Interrupted');
    assert.equal(ROUTER_CODES.H18.sock, 'backend');
    assert.equal(ROUTER_CODES.H27.sock, 'client');
    assert.equal(ROUTER_CODES.H27.level, 'warning');
    assert.equal(ROUTER_CODES.H27.status, 499);
    assert.equal(ROUTER_CODES.H24.status, null);
    assert.equal(ROUTER_CODES.H80.level, 'info');
    assert.equal(ROUTER_CODES.H25.status, 502);
  });

  it('gives H25 its four descs and H26 its three causes', () => {
    assert.deepEqual(ROUTER_CODES.H25.variants, Object.values(H25_DESCS));
    assert.equal(ROUTER_CODES.H25.variants.length, 4);
    assert.deepEqual(ROUTER_CODES.H26.causes, Object.values(H26_CAUSES));
  });

  it('answers 417 for an unsupported Expect and 400 for other H26 causes', () => {
    assert.equal(statusFor('H26', H26_CAUSES.expect), 417);
    assert.equal(statusFor('H26', H26_CAUSES.badChunk), 400);
    assert.equal(statusFor('H13'), 503);
  });
});
