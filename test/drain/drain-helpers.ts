/** A real `h13 drain` process on 127.0.0.1 port 0, and HTTP requests to it. */

import { request as httpRequest } from 'node:http';
import { CLI } from '../helpers/paths.js';
import { type Spawned, spawnNode } from '../helpers/process.js';
import { withTimeout } from '../helpers/wait.js';

export const PASSWORD = 'test-password-1234';
export const BASIC = `Basic ${Buffer.from(`h13:${PASSWORD}`).toString('base64')}`;

export interface DrainProcess {
  readonly proc: Spawned;
  readonly url: string;
}

export function startDrainProcess(
  db: string,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = { H13_DRAIN_PASSWORD: PASSWORD },
): Promise<DrainProcess> {
  return startDrainWith(['--db', db, ...args], env);
}

/** As startDrainProcess, with the store's arguments given (`--database-url URL`, `--db PATH`). */
export async function startDrainWith(
  args: readonly string[],
  env: NodeJS.ProcessEnv = { H13_DRAIN_PASSWORD: PASSWORD },
): Promise<DrainProcess> {
  const proc = spawnNode(CLI, ['drain', '--port', '0', '--host', '127.0.0.1', ...args], {
    env: { PORT: '', DYNO: '', DATABASE_URL: '', ...env },
  });
  const m = await proc.waitFor(/h13 drain listening on (http:\/\/\S+)/, 20_000);
  return { proc, url: m[1] as string };
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
}

export function send(
  url: string,
  options: {
    method?: string;
    path: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
    auth?: string | null;
  },
): Promise<Reply> {
  const target = new URL(options.path, url);
  return withTimeout(
    new Promise<Reply>((resolve, reject) => {
      const req = httpRequest(
        target,
        {
          method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
          headers: {
            ...(options.auth === null ? {} : { authorization: options.auth ?? BASIC }),
            ...options.headers,
          },
          agent: false,
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () => {
            const text = Buffer.concat(parts).toString('utf8');
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text,
              json: <T>() => JSON.parse(text) as T,
            });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(options.body);
    }),
    10_000,
    `${options.method ?? 'request'} ${options.path}`,
  );
}

/** `heroku logs` lines as the logplex body a drain receives: `LEN <PRI>1 TS host SOURCE PROC - MSG`. */
export function logplexBody(lines: readonly string[]): { body: Buffer; count: number } {
  const parts: Buffer[] = [];
  for (const line of lines) {
    const m = /^(\S+) ([\w-]+)\[([^\]]+)\]: ?(.*)$/s.exec(line);
    if (m === null) throw new Error(`not a heroku logs line: ${line}`);
    const pri = m[2] === 'heroku' ? 158 : 190;
    const frame = Buffer.from(`<${pri}>1 ${m[1]} host ${m[2]} ${m[3]} - ${m[4]}`);
    parts.push(Buffer.from(`${frame.length} `), frame);
  }
  return { body: Buffer.concat(parts), count: lines.length };
}

export function postFrames(
  url: string,
  app: string,
  lines: readonly string[],
  frameId: string,
  extra: Record<string, string> = {},
): Promise<Reply> {
  const { body, count } = logplexBody(lines);
  return send(url, {
    path: `/drain/${app}`,
    headers: {
      'content-type': 'application/logplex-1',
      'logplex-msg-count': String(count),
      'logplex-frame-id': frameId,
      'logplex-drain-token': 'd.00000000-1111-4222-8333-444444444444',
      ...extra,
    },
    body,
  });
}

export interface AppJson {
  name: string;
  counters: Record<string, number>;
  diagnoses: number;
  byCode: Record<string, number>;
  platformErrors: Record<string, number>;
  drainTokens: string[];
  badInput: Array<{ kind: string; sample: string }>;
}

export async function appInfo(url: string, app: string): Promise<AppJson | undefined> {
  const r = await send(url, { path: '/api/apps' });
  return r.json<{ apps: AppJson[] }>().apps.find((a) => a.name === app);
}

export interface DiagnosisJson {
  app: string;
  code: string;
  cause: string;
  requestId: string | null;
  line: string;
  evidence: Array<{ kind: string; line: string }>;
}

export async function diagnosesOf(
  url: string,
  app: string,
  since?: string,
): Promise<DiagnosisJson[]> {
  const q = since === undefined ? '' : `?since=${encodeURIComponent(since)}`;
  const r = await send(url, { path: `/api/apps/${app}/diagnoses${q}` });
  if (r.status !== 200) throw new Error(`diagnoses of ${app}: ${r.status} ${r.text}`);
  return r.json<{ diagnoses: DiagnosisJson[] }>().diagnoses;
}
