import cluster from 'node:cluster';
import { H13Error } from '../../core/errors.js';
import { runPrimary } from '../../demo/cluster.js';
import { CLIENT_ERROR_MODES, type ClientErrorMode } from '../../demo/scenarios.js';
import { createDemoServer } from '../../demo/server.js';
import { guard } from '../../guard/index.js';
import { defineCommand } from '../command.js';
import { portFromEnv } from '../env-port.js';

export const demoCommand = defineCommand({
  name: 'demo',
  summary:
    "Start the demo app: every way a Node app causes Heroku's H10-H28 errors, each on its own path.",
  usage: 'demo [options]',
  details:
    'Listens on --port, else $PORT, else 3000. Open / for the list of scenarios. Prints\n' +
    '"demo listening on http://HOST:PORT" once it accepts connections.',
  options: {
    port: {
      type: 'integer',
      description: 'port to listen on (0: any free port)',
      min: 0,
      max: 65535,
    },
    host: { type: 'string', description: 'address to bind', default: '0.0.0.0' },
    'client-error': {
      type: 'string',
      description: 'what the server does with malformed requests',
      choices: Object.keys(CLIENT_ERROR_MODES),
      default: 'default',
    },
    cluster: {
      type: 'boolean',
      description: 'run as a primary that forks a worker and re-forks it when it dies',
    },
    guard: {
      type: 'boolean',
      description: 'protect the server with h13/guard, to see each scenario guarded',
    },
  },
  args: { min: 0, max: 0 },
  run: async ({ options }) => {
    if (options.cluster && cluster.isPrimary) {
      runPrimary((line) => console.log(line));
      return new Promise<number>(() => {});
    }
    const port = options.port ?? portFromEnv();
    const server = createDemoServer({ clientError: options['client-error'] as ClientErrorMode });
    // The demo turns request context on so that async failures (/reject) are tied to their
    // request and answered 500; apps pay for it only when they ask (see docs/guard.md).
    if (options.guard) guard(server, { context: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(
          new H13Error(
            'H13_ERR_LISTEN',
            `demo: cannot listen on ${options.host}:${port}: ${err.message}`,
          ),
        ),
      );
      server.listen(port, options.host, () => resolve());
    });
    const address = server.address();
    const actual = typeof address === 'object' && address !== null ? address.port : port;
    const shownHost = options.host === '0.0.0.0' ? 'localhost' : options.host;
    console.log(
      `demo listening on http://${shownHost}:${actual}${cluster.isWorker ? ` (worker ${process.pid})` : ''}`,
    );
    // Keep running until a signal ends the process (Node's default action: no graceful
    // shutdown, on purpose; `--guard` adds one).
    return new Promise<number>(() => {});
  },
});
