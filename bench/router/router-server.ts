/**
 * The router under benchmark, configured exactly as `h13 router --to URL --port 0` runs it
 * (Router 2.0, Heroku timers, heroku log format through the CLI's line batching to stdout),
 * without loading the whole CLI: the benchmark must not depend on every other command
 * compiling. `--build DIR` loads the router from another build (a copy made before a change)
 * so both can be measured in the same run.
 *
 *   node router-server.js APP_URL [--build /path/to/build]
 */

import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as LogSinkModule from '../../src/core/log-sink.js';
import type * as RouterModule from '../../src/router/index.js';
import type * as LineBufferModule from '../../src/router/line-buffer.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const app = new URL(process.argv[2] ?? 'http://127.0.0.1:3000');
const buildFlag = process.argv.indexOf('--build');
const build = buildFlag > 0 ? (process.argv[buildFlag + 1] as string) : path.join(here, '../..');
const load = <T>(file: string): Promise<T> =>
  import(pathToFileURL(path.join(build, file)).href) as Promise<T>;

const router = await load<typeof RouterModule>('src/router/index.js');
const { createLogSink } = await load<typeof LogSinkModule>('src/core/log-sink.js');
const { bufferedLines } = await load<typeof LineBufferModule>('src/router/line-buffer.js');
const lines = bufferedLines(process.stdout);
const handle = await router.startRouter({
  dynos: router.staticDynos([{ host: app.hostname, port: Number(app.port) }]),
  port: 0,
  log: createLogSink('heroku', lines),
});
console.error(`router listening on ${handle.url}`);
process.on('SIGTERM', () => {
  handle.close().finally(() => {
    lines.flush();
    process.exit(0);
  });
});
