import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawnNode } from '../helpers/process.js';
import { fields, httpGet } from './helpers.js';

const EXAMPLES = {
  plain: { hello: 'hello from plain node:http\n', route: undefined },
  express: { hello: 'hello from express\n', route: '/destroy' },
  fastify: { hello: 'hello from fastify\n', route: '/destroy' },
  koa: { hello: 'hello from koa\n', route: '/destroy' },
} as const;

function example(name: string): string {
  return fileURLToPath(new URL(`../../examples/${name}.js`, import.meta.url));
}

describe('guard examples', () => {
  for (const [name, expected] of Object.entries(EXAMPLES)) {
    it(`${name}: a normal route works, /destroy is answered and explained, SIGTERM exits 0`, async () => {
      const app = spawnNode(example(name), [], { env: { PORT: '0', HOST: '127.0.0.1' } });
      try {
        const m = await app.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
        const url = m[1] as string;
        const ok = await httpGet(`${url}/`);
        assert.equal(ok.status, 200);
        assert.equal(ok.body, expected.hello);
        assert.ok(ok.headers['x-request-id'], 'request id echoed');
        const destroyed = await httpGet(`${url}/destroy`, {
          'x-request-id': `${name}-destroy-0123456789`,
        });
        assert.equal(destroyed.status, 500);
        const hit = await app.waitFor(/^at=error event=answered.*$/m);
        const line = fields(hit[0]);
        assert.equal(line.cause, 'app_destroy');
        assert.equal(line.request_id, `${name}-destroy-0123456789`);
        assert.equal(line.route, expected.route);
        assert.match(line.stack ?? '', new RegExp(`examples/${name}\\.js`));
        app.child.kill('SIGTERM');
        assert.equal(await app.exited(10_000), 0);
        assert.match(app.stderr(), /event=exit/);
        assert.doesNotMatch(
          app.stderr(),
          /event=keep_alive/,
          'no framework undid the keep-alive tuning',
        );
      } finally {
        app.kill();
      }
    });
  }
});
