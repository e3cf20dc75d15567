import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import { createRequire } from 'node:module';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { canCallDirectly } from '../../src/guard/direct-call.js';
import { spawnNode } from '../helpers/process.js';
import { type Guarded, header, startGuarded } from './helpers.js';

/**
 * The guard calls a server's single request listener without Node's emit (direct-call.ts).
 * Each case here is one where emit does more than call the listener, or where the listener is
 * not the plain function Node stores, and the app must see what it sees unguarded.
 */
describe('guard: calling the request listener', () => {
  const servers: Guarded[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  it('calls a single listener with the server as this, and every listener when there are more', async () => {
    const calls: string[] = [];
    let self: unknown;
    const g = await startGuarded(function first(this: unknown, req, res) {
      self = this;
      calls.push(`first ${req.url}`);
      res.setHeader('x-first', '1');
    });
    servers.push(g);
    g.server.on('request', (req, res) => {
      calls.push(`second ${req.url}`);
      res.end('both');
    });
    const r = await g.get('/two');
    assert.equal(r.body.toString(), 'both');
    assert.equal(header(r, 'x-first'), '1');
    assert.ok(header(r, 'x-request-id'), 'the id is still echoed');
    assert.deepEqual(calls, ['first /two', 'second /two']);
    assert.equal(self, g.server);
  });

  it('runs a once() listener once (Node stores a wrapper that removes itself)', async () => {
    const g = await startGuarded(() => {});
    servers.push(g);
    g.server.removeAllListeners('request');
    g.server.once('request', (_req, res) => res.end('once'));
    assert.equal((await g.get('/')).body.toString(), 'once');
    assert.equal(g.server.listenerCount('request'), 0);
  });

  it('keeps an emit that an agent installed before the guard', async () => {
    const seen: string[] = [];
    const g = await startGuarded(
      (_req, res) => res.end('ok'),
      {},
      (server) => {
        const emit = server.emit;
        server.emit = function agentEmit(this: http.Server, event: string | symbol, ...args) {
          if (event === 'request') seen.push('request');
          return Reflect.apply(emit, this, [event, ...args]);
        } as typeof server.emit;
      },
    );
    servers.push(g);
    assert.equal((await g.get('/')).body.toString(), 'ok');
    assert.deepEqual(seen, ['request']);
  });

  it("keeps captureRejections: a rejected listener's promise reaches Node's 500", async () => {
    const before = EventEmitter.captureRejections;
    EventEmitter.captureRejections = true;
    let g: Guarded;
    try {
      g = await startGuarded(async () => {
        throw new Error('rejected in the listener');
      });
    } finally {
      EventEmitter.captureRejections = before;
    }
    servers.push(g);
    assert.equal(canCallDirectly(g.server, g.server.emit), false);
    const r = await g.get('/');
    // http.Server's own captureRejection handler answers 500 with its status text.
    assert.equal(r.head?.status, 500);
    assert.equal(r.body.toString(), 'Internal Server Error');
  });

  it('keeps an EventEmitter.prototype.emit that an agent patched before the guard loaded', async () => {
    const child = spawnNode(
      fileURLToPath(new URL('../fixtures/guard-agent-emit.js', import.meta.url)),
      [],
    );
    try {
      await child.waitFor(/agent saw 1 requests/);
      assert.equal(await child.exited(), 0);
    } finally {
      child.kill();
    }
  });

  it("decides per server: Node's emit, no captureRejections, no domains", () => {
    const plain = http.createServer();
    assert.equal(canCallDirectly(plain, plain.emit), true);
    assert.equal(
      canCallDirectly(plain, function other() {}),
      false,
      "an emit that is not Node's own",
    );
    // Last: loading `domain` cannot be undone in this process.
    createRequire(import.meta.url)('node:domain');
    const later = http.createServer();
    assert.equal(canCallDirectly(later, later.emit), false, 'a process that uses domains');
  });
});
