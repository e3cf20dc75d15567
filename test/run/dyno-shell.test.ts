/** How a Procfile line becomes a process: bash as on Heroku, else sh with exec when that is the same. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findBash, isSimpleCommand, mainProgram, shellLaunch } from '../../src/run/dyno-shell.js';

describe('Procfile lines', () => {
  it('run under bash when there is one (bash execs a single command, as on Heroku)', () => {
    assert.deepEqual(shellLaunch('node server.js', '/usr/bin/bash'), {
      argv: ['/usr/bin/bash', '-c', 'node server.js'],
      note: null,
    });
  });

  it('without bash: sh -c "exec …" for a single simple command, sh and a note otherwise', () => {
    assert.deepEqual(shellLaunch('node --import h13/register server.js $PORT', null).argv, [
      '/bin/sh',
      '-c',
      'exec node --import h13/register server.js $PORT',
    ]);
    for (const compound of [
      'cd app && node server.js',
      'node a | tee log',
      'FOO=1 node a',
      'node a > out',
    ]) {
      assert.equal(isSimpleCommand(compound), false, compound);
      const launch = shellLaunch(compound, null);
      assert.deepEqual(launch.argv, ['/bin/sh', '-c', compound]);
      assert.match(launch.note ?? '', /bash was not found/);
    }
  });

  it('finds bash on the dyno PATH first', () => {
    const found = findBash({ PATH: '/nonexistent:/usr/bin:/bin' });
    assert.ok(found === null || found.endsWith('/bash'));
  });

  it('names the main program for notes', () => {
    assert.equal(mainProgram('npm start'), 'npm');
    assert.equal(mainProgram('NODE_ENV=production /usr/local/bin/npm run start'), 'npm');
    assert.equal(mainProgram(['/usr/bin/node', 'a.js']), 'node');
  });
});
