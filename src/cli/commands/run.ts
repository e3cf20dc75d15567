import { formatDuration } from '../../core/duration.js';
import { createLogSink } from '../../core/log-sink.js';
import { flavorFrom, limitsFrom, logFormatFrom, timersFrom } from '../../router/options.js';
import { startRun } from '../../run/index.js';
import { outputGate } from '../../run/line-splitter.js';
import { parseDrainUrl } from '../../run/log-drain.js';
import { RUN_OPTIONS } from '../../run/options.js';
import { readWebCommand } from '../../run/procfile.js';
import { defineCommand } from '../command.js';
import { portFromEnv } from '../env-port.js';
import { EXIT } from '../exit-codes.js';

export const runCommand = defineCommand({
  name: 'run',
  summary: "Run an app behind a local emulation of Heroku's router and dyno manager.",
  usage: 'run [options] [-- COMMAND...]',
  details:
    'Starts --dynos copies of COMMAND (default: the web: line of ./Procfile) as web.1..web.N, each\n' +
    'with its own $PORT, and the router on --port. Prints one stream in `heroku logs` form.\n' +
    'Restart the dynos like `heroku ps:restart` or a deploy: send SIGHUP, or press r on a terminal.\n' +
    'Ctrl-C (or q, or SIGTERM) stops everything the same way: SIGTERM, SIGKILL after --grace.\n' +
    'Exits 0 when every dyno stopped cleanly, 1 when one crashed, failed to boot (R10) or had\n' +
    'to be killed (R12).',
  options: RUN_OPTIONS,
  args: { min: 0, max: 0 },
  run: async ({ options, rest }) => {
    const command = rest.length > 0 ? rest : await readWebCommand(process.cwd());
    // Every line goes through `out`, which tells the gate when stdout's reader is behind.
    const gate = outputGate(process.stdout);
    const out = {
      write(text: string) {
        const ok = process.stdout.write(text);
        if (!ok) gate.wrote();
        return ok;
      },
    };
    const sink = createLogSink(logFormatFrom(options), out);
    const run = await startRun({
      command,
      dynos: options.dynos,
      port: options.port ?? portFromEnv(),
      host: options.host,
      flavor: flavorFrom(options),
      timers: timersFrom(options),
      limits: limitsFrom(options),
      appHost: options['app-host'],
      grace: options.grace,
      bootTimeout: options['boot-timeout'],
      restartDelay: options['restart-delay'],
      resignal: options.resignal,
      log: sink,
      collect: false,
      gate,
      ...(options.drain === undefined
        ? {}
        : {
            drain: {
              url: options.drain,
              bufferLines: options['drain-buffer'],
              report: (message: string) => process.stderr.write(`h13 run: drain: ${message}\n`),
            },
            drainFlushMs: options['drain-flush'],
          }),
      ...(options.isolation === 'auto'
        ? {}
        : { isolation: options.isolation as 'pid-namespace' | 'process-group' }),
    });
    const interactive = process.stdin.isTTY === true;
    const drainNote =
      options.drain === undefined ? '' : `; lines also to ${parseDrainUrl(options.drain).shown}`;
    process.stderr.write(
      `h13 run (pid ${process.pid}): router on ${run.url} → ${options.dynos} dyno(s)${drainNote}; ` +
        `${interactive ? 'press r to restart, q to stop; ' : ''}` +
        `kill -HUP ${process.pid} restarts, Ctrl-C stops (twice: at once)\n`,
    );
    return new Promise<number>((resolve) => {
      let restarting = false;
      let queued = false;
      const restart = () => {
        if (stopping) {
          process.stderr.write('h13 run: restart requested while stopping: ignored\n');
          return;
        }
        if (restarting) {
          // One more restart after this one, however many come in meanwhile: said, not dropped.
          if (!queued)
            process.stderr.write('h13 run: restart requested during a restart: queued\n');
          queued = true;
          return;
        }
        restarting = true;
        run
          .restart()
          .catch((err: unknown) =>
            process.stderr.write(`h13 run: restart failed: ${String(err)}\n`),
          )
          .finally(() => {
            restarting = false;
            if (queued) {
              queued = false;
              restart();
            }
          });
      };
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) {
          // The second Ctrl-C or SIGTERM: no more waiting. Everything of every dyno is killed
          // (SIGKILL) before h13 exits, namespaces and groups alike.
          process.stderr.write(`h13 run: ${signal} again: killing every dyno now\n`);
          run.kill();
          process.exit(EXIT.FOUND);
        }
        stopping = true;
        process.stderr.write(
          `h13 run: stopping (SIGTERM to every dyno, SIGKILL after ${formatDuration(options.grace)}; ${signal} again: at once)\n`,
        );
        process.stdin.pause();
        run.stop().then(
          (code) => {
            const d = run.drainStats();
            if (d !== null)
              process.stderr.write(
                `h13 run: drain: ${d.delivered} lines delivered, ${d.dropped} dropped, ${d.rejected} refused by the drain\n`,
              );
            resolve(code === 0 ? EXIT.OK : EXIT.FOUND);
          },
          (err: unknown) => {
            process.stderr.write(`h13 run: stop failed: ${String(err)}\n`);
            resolve(EXIT.FAILURE);
          },
        );
      };
      process.on('SIGHUP', restart);
      process.on('SIGINT', () => stop('Ctrl-C'));
      process.on('SIGTERM', () => stop('SIGTERM'));
      if (interactive) {
        process.stdin.setRawMode(true);
        process.stdin.setEncoding('utf8');
        process.stdin.on('data', (key: string) => {
          if (key === 'r') restart();
          else if (key === 'q' || key === '\u0003') stop('Ctrl-C');
        });
      }
    });
  },
});
