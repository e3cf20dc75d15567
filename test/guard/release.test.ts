import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { requestInfo } from '../../src/guard/index.js';
import { withTimeout } from '../helpers/wait.js';
import { type Guarded, startGuarded } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Collect until `ref` is gone or a few full collections found it still reachable. */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 5; i++) {
    // A WeakRef target stays alive until the job that made or read it ends.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    if (ref.deref() === undefined) return true;
  }
  return false;
}

function get(agent: http.Agent, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

describe('guard releases a finished request', () => {
  const servers: Guarded[] = [];
  const agents: http.Agent[] = [];
  after(async () => {
    for (const a of agents) a.destroy();
    for (const s of servers) await s.close();
  });

  it('keeps nothing of a finished keep-alive request while its connection idles', async () => {
    const refs: WeakRef<http.IncomingMessage>[] = [];
    const finished: Promise<unknown>[] = [];
    const idsAfterFinish: (string | undefined)[] = [];
    const g = await startGuarded((req, res) => {
      refs.push(new WeakRef(req));
      res.on('finish', () => idsAfterFinish.push(requestInfo(req)?.id));
      finished.push(once(res, 'close'));
      res.end(`served ${requestInfo(req)?.id}`);
    });
    servers.push(g);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    const first = await withTimeout(get(agent, g.port, '/one'), 3000, 'first response');
    const second = await withTimeout(get(agent, g.port, '/two'), 3000, 'second response');
    await withTimeout(Promise.all(finished), 3000, 'both responses closed');
    // Same connection, now idle: the agent holds it open.
    const connections = await new Promise<number>((resolve, reject) =>
      g.server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
    );
    assert.equal(connections, 1, 'both requests went over one kept-alive connection');
    // The record stays with its request: ids are readable after the response finished.
    assert.equal(idsAfterFinish.length, 2);
    assert.equal(first, `served ${idsAfterFinish[0]}`);
    assert.equal(second, `served ${idsAfterFinish[1]}`);
    const [ref1, ref2] = refs;
    assert.ok(ref1 !== undefined && ref2 !== undefined);
    refs.length = 0;
    assert.equal(await collected(ref1), true, 'the first request was collected');
    assert.equal(await collected(ref2), true, 'the latest request was collected');
  });
});
