/**
 * A PostgreSQL for tests. `H13_TEST_DATABASE_URL` when set (a server the test may create
 * databases on); otherwise a throwaway cluster of Debian's packaged PostgreSQL: initdb into a
 * temp dir, `postgres` on a free 127.0.0.1 port with its unix socket in that dir, stopped and
 * deleted by `stop()`. As root, the cluster runs as the `postgres` user (PostgreSQL refuses to
 * run as root). Each test asks `createDatabase()` for a database of its own.
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../src/core/ports.js';
import { withTimeout } from './wait.js';

const INSTALL_HINT =
  'PostgreSQL is needed by the drain tests: install it (Debian/Ubuntu: `sudo apt-get install -y postgresql`; .ci/run does it) or set H13_TEST_DATABASE_URL to a server the tests may create databases on';
const READY_MS = 30_000;
const STOP_MS = 15_000;

export interface TestPostgres {
  /** A new empty database; its URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

/** The directory of initdb/postgres: $H13_PG_BIN, else the newest /usr/lib/postgresql/N/bin, else PATH. */
export function postgresBin(): string | null {
  const fromEnv = process.env.H13_PG_BIN;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(root, versions[0], 'bin');
  }
  for (const dir of (process.env.PATH ?? '').split(':'))
    if (dir !== '' && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres')))
      return dir;
  return null;
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const given = process.env.H13_TEST_DATABASE_URL;
  if (given !== undefined && given !== '') return onServer(given, async () => {});
  const bin = postgresBin();
  if (bin === null) throw new Error(INSTALL_HINT);
  const dir = mkdtempSync(join(tmpdir(), 'h13-pg-'));
  const owner = process.getuid?.() === 0 ? postgresUser() : undefined;
  if (owner !== undefined) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const asOwner = { uid: owner?.uid, gid: owner?.gid, env: { ...process.env, LC_ALL: 'C' } };
  try {
    execFileSync(
      join(bin, 'initdb'),
      ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
      { ...asOwner, stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`initdb failed: ${(err as Error).message}\n${stderr}`);
  }
  const port = await freePort();
  const child = spawn(
    join(bin, 'postgres'),
    [
      '-D',
      data,
      '-k',
      dir,
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-c',
      'max_connections=200',
      '-c',
      'shared_buffers=32MB',
    ],
    { ...asOwner, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stopped = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killAtExit = () => child.kill('SIGKILL');
  process.once('exit', killAtExit);
  const stop = async () => {
    process.off('exit', killAtExit);
    if (child.exitCode === null && child.signalCode === null) {
      // SIGINT: PostgreSQL's fast shutdown (sessions ended, no wait for clients).
      child.kill('SIGINT');
      await withTimeout(stopped, STOP_MS, 'PostgreSQL to stop').catch(() => {
        child.kill('SIGKILL');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await ready(child, stopped);
  } catch (err) {
    await stop();
    throw err;
  }
  return onServer(`postgres://postgres@127.0.0.1:${port}/postgres`, stop);
}

function onServer(adminUrl: string, stopServer: () => Promise<void>): TestPostgres {
  const made: string[] = [];
  const admin = async <T>(work: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      return await work(c);
    } finally {
      await c.end();
    }
  };
  return {
    async createDatabase() {
      const name = `h13_test_${randomBytes(6).toString('hex')}`;
      await admin((c) => c.query(`CREATE DATABASE ${name}`));
      made.push(name);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    },
    async stop() {
      if (process.env.H13_TEST_DATABASE_URL) {
        await admin(async (c) => {
          for (const name of made) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        });
      }
      await stopServer();
    },
  };
}

/** Resolves once the server logs that it accepts connections; rejects if it exits first. */
function ready(child: ChildProcess, stopped: Promise<void>): Promise<void> {
  let log = '';
  const seen = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      log += d.toString();
      if (log.includes('database system is ready to accept connections')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    stopped.then(() => reject(new Error(`postgres exited before it was ready:\n${log}`)));
  });
  return withTimeout(seen, READY_MS, `PostgreSQL to accept connections\n${log}`);
}

function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const parts = line?.split(':');
  if (parts === undefined || parts.length < 4)
    throw new Error(`running as root, PostgreSQL must run as the postgres user: ${INSTALL_HINT}`);
  return { uid: Number(parts[2]), gid: Number(parts[3]) };
}
