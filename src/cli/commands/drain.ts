import { DRAIN_API_NAMES, DRAIN_OPTIONS, type DrainOptions } from '../../drain/options.js';
import { startDrain } from '../../drain/server.js';
import { defineCommand } from '../command.js';
import { EXIT } from '../exit-codes.js';

export const drainCommand = defineCommand({
  name: 'drain',
  summary: 'Receive a Heroku log drain and diagnose every H13 (and H10-H28) as it happens.',
  usage: 'drain [options]',
  details:
    'Routes (all but the login form need the credential: HTTP Basic, or Bearer PASSWORD for /api):\n' +
    '  POST /drain/APP    a logplex HTTPS drain: heroku drains:add https://USER:PASS@HOST/drain/APP\n' +
    '  POST /ingest/APP   `heroku logs` text: heroku logs -n 1500 | curl -u USER:PASS --data-binary @- URL/ingest/APP\n' +
    '  GET  /api/apps, /api/apps/APP/diagnoses?since=ISO, /api/requests/REQUEST_ID\n' +
    '  GET  /            the web page (log in at /login with the same user and password)\n' +
    'Alerts: --webhook slack=URL|json=URL, or $H13_DRAIN_WEBHOOKS (space-separated).\n' +
    'The password is $H13_DRAIN_PASSWORD, else one generated at first start and printed once.\n' +
    'Prints "h13 drain listening on URL" once it accepts connections. See docs/drain.md.',
  options: DRAIN_OPTIONS,
  args: { min: 0, max: 0 },
  run: async ({ options }) => {
    const input: Record<string, unknown> = {};
    for (const [cli, api] of Object.entries(DRAIN_API_NAMES)) {
      const value = options[cli as keyof typeof options];
      if (value !== undefined) input[api] = value;
    }
    const password = process.env.H13_DRAIN_PASSWORD;
    const drain = await startDrain({
      ...(input as DrainOptions),
      ...(password === undefined || password === '' ? {} : { password }),
    });
    if (drain.generatedPassword !== undefined) {
      // Printed once: only its hash is kept. stderr, so a log collector of stdout misses it.
      process.stderr.write(
        `h13 drain: generated a password (shown only now; set H13_DRAIN_PASSWORD to choose one):\n` +
          `  user: ${options.user}\n  password: ${drain.generatedPassword}\n`,
      );
    }
    console.log(`h13 drain listening on ${drain.url}`);
    return new Promise<number>((resolve) => {
      const stop = () => {
        drain.close().then(
          () => resolve(EXIT.OK),
          () => resolve(EXIT.FAILURE),
        );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
  },
});
