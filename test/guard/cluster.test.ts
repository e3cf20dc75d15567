import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixture } from '../helpers/paths.js';
import { type Spawned, spawnNode } from '../helpers/process.js';
import { until, withTimeout } from '../helpers/wait.js';
import { httpGet } from './helpers.js';

function workerPids(app: Spawned): number[] {
  return [...app.stdout().matchAll(/worker (\d+) listening/g)].map((m) => Number(m[1]));
}

/** The primary and every worker it ever forked: a failed test leaves no process behind. */
function killAll(app: Spawned): void {
  app.kill();
  for (const pid of workerPids(app)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function startCluster(workers: number, forwardAfter = 1000) {
  const app = spawnNode(fixture('guard-cluster'), [], {
    env: { WEB_CONCURRENCY: String(workers), FORWARD_AFTER: String(forwardAfter) },
  });
  await until(() => workerPids(app).length >= workers, 10_000, `${workers} workers listening`);
  const url = (
    app.stdout().match(/listening on (http:\/\/127\.0\.0\.1:\d+)/) as RegExpMatchArray
  )[1] as string;
  return { app, url };
}

describe('h13/cluster', () => {
  it('forks WEB_CONCURRENCY workers that share the port', async () => {
    const { app, url } = await startCluster(2);
    try {
      assert.equal(app.stderr().match(/event=worker_fork/g)?.length, 2);
      const seen = new Set<string>();
      for (let i = 0; i < 20 && seen.size < 2; i++) seen.add((await httpGet(`${url}/pid`)).body);
      assert.deepEqual([...seen].map(Number).sort(), workerPids(app).sort());
    } finally {
      killAll(app);
    }
  });

  it('restarts a crashed worker; the crashing request is answered 500', async () => {
    const { app, url } = await startCluster(1);
    try {
      const crashed = await httpGet(`${url}/crash`);
      assert.equal(crashed.status, 500);
      await app.waitFor(/event=worker_exit.*exit_code=1/);
      await until(() => workerPids(app).length === 2, 10_000, 'a new worker');
      // With port 0 (tests only) a lone worker's replacement gets a port of its own.
      const urls = [...app.stdout().matchAll(/listening on (http:\/\/127\.0\.0\.1:\d+)/g)];
      const after = await httpGet(`${urls.at(-1)?.[1]}/pid`);
      assert.equal(Number(after.body), workerPids(app)[1]);
    } finally {
      killAll(app);
    }
  });

  it('SIGTERM to every process (as Heroku does): workers drain once, no forwarded signal, exit 0', async () => {
    const { app, url } = await startCluster(2, 3000);
    try {
      const slow = httpGet(`${url}/slow?ms=600`);
      await app.waitFor(/got \/slow/);
      for (const pid of workerPids(app)) process.kill(pid, 'SIGTERM');
      app.child.kill('SIGTERM');
      const answer = await withTimeout(slow, 5000, 'slow request');
      assert.equal(answer.status, 200);
      assert.equal(await app.exited(8000), 0);
      assert.equal(app.stderr().match(/event=shutdown /g)?.length, 2, app.stderr());
      assert.doesNotMatch(app.stderr(), /event=signal_ignored/);
      assert.match(app.stderr(), /event=cluster_exit exit_code=0/);
    } finally {
      app.kill();
    }
  });

  it('SIGTERM to the primary alone is forwarded to workers that did not get it', async () => {
    const { app } = await startCluster(2, 50);
    try {
      app.child.kill('SIGTERM');
      assert.equal(await app.exited(8000), 0);
      assert.equal(app.stderr().match(/event=shutdown /g)?.length, 2, app.stderr());
    } finally {
      app.kill();
    }
  });
});
