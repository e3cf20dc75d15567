import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { currentRequest, requestId, requestInfo, step, stepFor } from '../../src/guard/index.js';
import { fields, type Guarded, header, startGuarded } from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('guard request ids and steps', () => {
  const servers: Guarded[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  it('keeps a valid X-Request-Id, replaces an invalid one, echoes it and shows it to the app', async () => {
    const seen: string[] = [];
    const g = await startGuarded((req, res) => {
      seen.push(String(requestInfo(req)?.id));
      res.end(requestInfo(req)?.id ?? '');
    });
    servers.push(g);
    const valid = 'abcdefghij0123456789+/=-';
    const kept = await g.get('/', `X-Request-Id: ${valid}\r\n`);
    assert.equal(header(kept, 'x-request-id'), valid);
    assert.equal(kept.body.toString(), valid);
    const short = await g.get('/', 'X-Request-Id: too-short\r\n');
    assert.match(header(short, 'x-request-id') ?? '', UUID);
    const bad = await g.get('/', `X-Request-Id: ${'a'.repeat(19)}!\r\n`);
    assert.match(header(bad, 'x-request-id') ?? '', UUID);
    const none = await g.get('/');
    const id = header(none, 'x-request-id') ?? '';
    assert.match(id, UUID);
    assert.equal(seen[3], id);
    const twice = await g.get('/', `X-Request-Id: ${valid}\r\nX-Request-Id: ${valid}\r\n`);
    assert.match(header(twice, 'x-request-id') ?? '', UUID, 'a repeated header is not trusted');
  });

  it('makes the id readable anywhere in the async work with context:true', async () => {
    const g = await startGuarded(
      (_req, res) => {
        setTimeout(async () => {
          await Promise.resolve();
          step('after timer', { attempt: 2 });
          res.end(`${requestId()} ${currentRequest()?.lastStep}`);
        }, 5);
      },
      { context: true },
    );
    servers.push(g);
    const r = await g.get('/ctx', 'X-Request-Id: ctx-0123456789abcdefghij\r\n');
    assert.equal(r.body.toString(), 'ctx-0123456789abcdefghij after timer');
    assert.equal(requestId(), undefined, 'no request outside a request');
    assert.equal(step('outside'), false);
  });

  it('logs kept steps only when the request fails (steps: failure)', async () => {
    const g = await startGuarded((req, res) => {
      stepFor(req, 'loaded user', { user: 42 });
      if (req.url === '/fail') {
        stepFor(req, 'charged card');
        res.writeHead(200, { 'content-length': 10 });
        res.write('x', () => res.destroy());
        return;
      }
      res.end('ok');
    });
    servers.push(g);
    await g.get('/ok');
    await g.get('/fail');
    const h18 = await g.waitLine(/code=H18/);
    assert.equal(h18.step, 'charged card');
    const steps = g.lines.filter((l) => /event=step/.test(l)).map(fields);
    assert.deepEqual(
      steps.map((s) => [s.step, s.path]),
      [
        ['loaded user', '/fail'],
        ['charged card', '/fail'],
      ],
    );
    assert.equal(steps[0]?.user, '42');
    assert.equal(steps[0]?.request_id, h18.request_id);
  });

  it('logs steps as they happen with steps: live, escaping what they carry', async () => {
    const g = await startGuarded(
      (req, res) => {
        stepFor(req, 'step "one"\r\nat=error', { note: 'a b\nc', request_id: 'forged' });
        res.end('ok');
      },
      { steps: 'live' },
    );
    servers.push(g);
    await g.get('/live');
    const line = await g.waitLine(/event=step/);
    assert.equal(g.lines.length, 1);
    assert.equal(line.step, 'step "one"\r\nat=error');
    assert.equal(line.note, 'a b\nc');
    assert.equal(line.field_request_id, 'forged');
    assert.notEqual(line.request_id, 'forged');
  });
});
