import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { H13Error } from '../../src/core/errors.js';
import { freePort } from '../../src/core/ports.js';
import { resolveDrainOptions } from '../../src/drain/options.js';
import { pgConnection, redactedUrl } from '../../src/drain/pg-connect.js';
import { openPgStore } from '../../src/drain/pg-store.js';

describe('DATABASE_URL: TLS as Heroku documents for node-postgres', () => {
  it('a remote server gets TLS without certificate checks (Heroku Postgres), unless sslmode says otherwise', () => {
    const heroku = 'postgres://u:secret@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d1';
    assert.deepEqual(pgConnection(heroku), {
      connectionString: heroku,
      ssl: { rejectUnauthorized: false },
    });
    const strict = pgConnection(`${heroku}?sslmode=verify-full`);
    assert.deepEqual(strict.ssl, { rejectUnauthorized: true });
    assert.doesNotMatch(strict.connectionString, /sslmode/, 'sslmode would replace the ssl object');
    assert.equal(pgConnection(`${heroku}?sslmode=disable`).ssl, false);
    assert.deepEqual(pgConnection(`${heroku}?sslmode=require`).ssl, { rejectUnauthorized: false });
  });

  it('loopback and unix sockets get no TLS unless asked', () => {
    assert.equal(pgConnection('postgres://u@127.0.0.1:5432/d').ssl, false);
    assert.equal(pgConnection('postgresql://u@localhost/d').ssl, false);
    assert.equal(pgConnection('postgres://u@[::1]/d').ssl, false);
    assert.equal(pgConnection('postgres:///d?host=/var/run/postgresql').ssl, false);
    assert.deepEqual(pgConnection('postgres://u@127.0.0.1/d?sslmode=require').ssl, {
      rejectUnauthorized: false,
    });
  });

  it('refuses what is not a PostgreSQL URL, naming the option; never echoes the password', () => {
    for (const bad of ['not a url', 'mysql://u:pw@h/d', 'postgres://u:pw@h/d?sslmode=maybe']) {
      assert.throws(
        () => pgConnection(bad),
        (err: unknown) =>
          err instanceof H13Error &&
          err.code === 'H13_ERR_INVALID_OPTION' &&
          err.field === 'databaseUrl' &&
          !err.message.includes('pw'),
      );
    }
    assert.equal(redactedUrl('postgres://u:secret@h/d'), 'postgres://u:***@h/d');
  });

  it('DATABASE_URL from the environment chooses PostgreSQL; --database-url wins over it', () => {
    assert.equal(resolveDrainOptions({}, {}).databaseUrl, undefined);
    assert.equal(resolveDrainOptions({}, { DATABASE_URL: '' }).databaseUrl, undefined);
    assert.equal(
      resolveDrainOptions({}, { DATABASE_URL: 'postgres://e/d' }).databaseUrl,
      'postgres://e/d',
    );
    assert.equal(
      resolveDrainOptions({ databaseUrl: 'postgres://o/d' }, { DATABASE_URL: 'postgres://e/d' })
        .databaseUrl,
      'postgres://o/d',
    );
  });

  it('a server that cannot be reached fails the start with H13_ERR_STORE, the password left out', async () => {
    const port = await freePort();
    await assert.rejects(
      () => openPgStore(`postgres://u:hunter2@127.0.0.1:${port}/d`),
      (err: unknown) =>
        err instanceof H13Error &&
        err.code === 'H13_ERR_STORE' &&
        err.message.includes(`127.0.0.1:${port}`) &&
        !err.message.includes('hunter2'),
    );
  });
});
