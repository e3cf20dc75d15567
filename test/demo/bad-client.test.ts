import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unescapeBytes } from '../../src/cli/commands/bad-client.js';
import { CLI } from '../helpers/paths.js';
import { spawnNode } from '../helpers/process.js';
import { startHttpServer } from '../helpers/servers.js';

async function badClientAgainst(mode: string, extra: string[] = []) {
  const demo = spawnNode(CLI, [
    'demo',
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--client-error',
    mode,
  ]);
  try {
    const port = (await demo.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/))[1];
    const client = spawnNode(CLI, ['bad-client', `http://127.0.0.1:${port}/`, ...extra]);
    const code = await client.exited();
    return { code, out: client.stdout() };
  } finally {
    demo.kill();
  }
}

describe('h13 bad-client against each --client-error mode', () => {
  it("default: Node's own 400", async () => {
    const { code, out } = await badClientAgainst('default');
    assert.match(
      out,
      /^> GET \?invalid=request HTTP\/1\.1\\r\\nHost: 127\.0\.0\.1:\d+\\r\\n\\r\\n$/m,
    );
    assert.match(out, /^< HTTP\/1\.1 400 Bad Request$/m);
    assert.match(out, /^answered 400/m);
    assert.equal(code, 0);
  });

  it('destroy: closed without a response, exit 1', async () => {
    const { code, out } = await badClientAgainst('destroy');
    assert.match(
      out,
      /connection closed without a response \(this is an H13 behind Heroku's router\)/,
    );
    assert.equal(code, 1);
  });

  it('answer: 400 with a body', async () => {
    const { code, out } = await badClientAgainst('answer');
    assert.match(out, /^< HTTP\/1\.1 400 Bad Request$/m);
    assert.match(out, /^Bad request\\n$/m);
    assert.equal(code, 0);
  });

  it('--raw sends other bytes', async () => {
    const { code, out } = await badClientAgainst('default', [
      '--raw',
      'GET /partial HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n',
    ]);
    assert.match(out, /incomplete response \(an H18/);
    assert.equal(code, 1);
  });
});

describe('h13 bad-client endings', () => {
  it('reports a timeout when the server never answers', async () => {
    const server = await startHttpServer(() => {});
    try {
      const client = spawnNode(CLI, [
        'bad-client',
        server.url,
        '--raw',
        'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n',
        '--timeout',
        '100ms',
      ]);
      assert.equal(await client.exited(), 1);
      assert.match(client.stdout(), /no response within 100 ms/);
    } finally {
      await server.close();
    }
  });

  it('exits 3 when nothing listens and 2 on a bad URL', async () => {
    const server = await startHttpServer(() => {});
    const url = server.url;
    await server.close();
    const refused = spawnNode(CLI, ['bad-client', url]);
    assert.equal(await refused.exited(), 3);
    const bad = spawnNode(CLI, ['bad-client', 'ftp://x']);
    assert.equal(await bad.exited(), 2);
    assert.match(bad.stderr(), /H13_ERR_INVALID_URL/);
  });

  it('unescapes \\r \\n \\t \\\\ \\xHH', () => {
    assert.deepEqual([...unescapeBytes('a\\r\\n\\t\\\\\\x00\\xff')], [97, 13, 10, 9, 92, 0, 255]);
  });
});
