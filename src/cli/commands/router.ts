import { H13Error } from '../../core/errors.js';
import { createLogSink } from '../../core/log-sink.js';
import { staticDynos } from '../../router/dynos.js';
import { startRouter } from '../../router/index.js';
import { bufferedLines } from '../../router/line-buffer.js';
import {
  flavorFrom,
  limitsFrom,
  logFormatFrom,
  ROUTER_OPTIONS,
  timersFrom,
} from '../../router/options.js';
import { defineCommand } from '../command.js';
import { portFromEnv } from '../env-port.js';
import { EXIT } from '../exit-codes.js';
import { parseTarget } from '../url-target.js';

export const routerCommand = defineCommand({
  name: 'router',
  summary: "Run Heroku's router in front of an app: the same H10-H28 lines, locally.",
  usage: 'router --to URL [--to URL...] [options]',
  details:
    'Proxies every request on --port to the app(s) named by --to (each one a dyno: web.1,\n' +
    "web.2, ...) the way Heroku's router does, and prints one `heroku[router]` line per\n" +
    'request on stdout. Prints "router listening on http://HOST:PORT" on stderr once ready.\n' +
    'Listens on --port, else $PORT, else 3000. Timers take 30s, 500ms, ...',
  options: {
    to: { type: 'strings', description: 'an app to route to (http://HOST:PORT), repeatable' },
    port: {
      type: 'integer',
      description: 'port to listen on (0: any free port)',
      min: 0,
      max: 65535,
    },
    host: { type: 'string', description: 'address to bind', default: '127.0.0.1' },
    ...ROUTER_OPTIONS,
  },
  args: { min: 0, max: 0 },
  run: async ({ options }) => {
    if (options.to.length === 0) {
      throw new H13Error('H13_ERR_MISSING_ARGUMENT', 'router: give at least one --to URL', {
        field: '--to',
      });
    }
    const targets = options.to.map((url) => parseTarget(url));
    const lines = bufferedLines(process.stdout);
    const router = await startRouter({
      dynos: staticDynos(targets),
      host: options.host,
      port: options.port ?? portFromEnv(),
      flavor: flavorFrom(options),
      timers: timersFrom(options),
      limits: limitsFrom(options),
      appHost: options['app-host'],
      log: createLogSink(logFormatFrom(options), lines),
    });
    console.error(`router listening on ${router.url}`);
    return new Promise<number>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        const done = () => {
          lines.flush();
          resolve(EXIT.OK);
        };
        router.close().then(done, done);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  },
});
