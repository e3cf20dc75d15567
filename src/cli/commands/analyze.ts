import { writeFileSync } from 'node:fs';
import { Analyzer } from '../../analyze/analyzer.js';
import { createFeeder, drain } from '../../analyze/input.js';
import { isPlatformCode, PLATFORM_CODES } from '../../analyze/platform-errors.js';
import { decodedChunks, openInput } from '../../analyze/read-chunks.js';
import { buildReport, DIAGNOSIS_SCHEMA, diagnosisJson } from '../../analyze/report.js';
import { renderHtml } from '../../analyze/report-html.js';
import { formatDiagnosis, formatSummary, paint } from '../../analyze/report-text.js';
import { isRouterCodeName } from '../../core/codes.js';
import { H13Error } from '../../core/errors.js';
import { defineCommand } from '../command.js';
import { EXIT } from '../exit-codes.js';

/** Files this big get a progress bar on a terminal. */
const PROGRESS_MIN_BYTES = 16 * 1024 * 1024;

export const analyzeCommand = defineCommand({
  name: 'analyze',
  summary: 'Explain every router error in Heroku logs: its cause, the proof, the fix.',
  usage: 'analyze [options] [FILE...]',
  details:
    'Reads `heroku logs` output (also Papertrail, syslog/logplex drain frames, `h13 run` output\n' +
    "in heroku or json format, the guard's lines) from the files given (.gz too) or stdin.\n" +
    'Examples:\n' +
    '  heroku logs -n 1500 | h13 analyze\n' +
    '  heroku logs --tail | h13 analyze --follow\n' +
    '  h13 analyze logs.txt.gz --html report.html --fail-on H13,H18\n' +
    'Exits 0 when the analysis completed (errors found or not), 1 when --fail-on matched,\n' +
    '2 on a usage error, 3 when an input could not be read. See docs/analyze.md.',
  options: {
    json: { type: 'boolean', description: 'print the report as JSON (schema h13.analyze/1)' },
    html: {
      type: 'string',
      description: 'also write a self-contained HTML report',
      valueName: 'file',
    },
    follow: {
      type: 'boolean',
      short: 'f',
      description: 'print each diagnosis as soon as its evidence window closes',
    },
    'fail-on': {
      type: 'string',
      description: 'exit 1 when any of these codes was found (e.g. H13,H18)',
      valueName: 'codes',
    },
    window: {
      type: 'duration',
      description: 'how long after a router error its evidence may still be logged',
      default: 5000,
    },
    color: {
      type: 'string',
      description: 'colour the terminal summary',
      choices: ['auto', 'always', 'never'],
      default: 'auto',
    },
  },
  args: { min: 0, max: 1000 },
  run: async ({ options, args }) => {
    const failOn = parseFailOn(options['fail-on']);
    const color =
      options.color === 'always' ||
      (options.color === 'auto' &&
        process.stdout.isTTY === true &&
        (process.env.NO_COLOR ?? '') === '' &&
        process.env.TERM !== 'dumb');
    const p = paint(color);
    const files = args.filter((a) => a !== '-');
    const useStdin = args.length === 0 || args.includes('-');
    if (useStdin && process.stdin.isTTY === true) {
      throw new H13Error(
        'H13_ERR_MISSING_ARGUMENT',
        'no input: pipe logs in (heroku logs -n 1500 | h13 analyze) or name files',
      );
    }
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(EXIT.OK);
    });
    const analyzer = new Analyzer({
      windowMs: options.window,
      ...(options.follow
        ? {
            onDiagnosis: (d) =>
              process.stdout.write(
                options.json
                  ? `${JSON.stringify({ type: 'diagnosis', schema: DIAGNOSIS_SCHEMA, ...diagnosisJson(d) })}\n`
                  : `${formatDiagnosis(diagnosisJson(d), p)}\n\n`,
              ),
          }
        : {}),
    });
    const feeder = createFeeder(analyzer);
    const timer = options.follow ? setInterval(() => analyzer.flushWall(), 100) : undefined;
    try {
      for (const file of files) {
        let input: Awaited<ReturnType<typeof openInput>>;
        try {
          input = await openInput(file);
        } catch (err) {
          throw new H13Error('H13_ERR_INPUT', `cannot read ${file}: ${(err as Error).message}`, {
            cause: err,
          });
        }
        const bar =
          process.stderr.isTTY === true && !options.follow && input.size >= PROGRESS_MIN_BYTES
            ? progressBar(file, input.size, input.position)
            : undefined;
        try {
          await drain(input.chunks, feeder, bar);
        } catch (err) {
          throw new H13Error('H13_ERR_INPUT', `cannot read ${file}: ${(err as Error).message}`, {
            cause: err,
          });
        } finally {
          if (bar !== undefined) process.stderr.write('\r\u001b[2K');
        }
      }
      if (useStdin) {
        try {
          await drain(decodedChunks(process.stdin), feeder);
        } catch (err) {
          throw new H13Error('H13_ERR_INPUT', `cannot read stdin: ${(err as Error).message}`, {
            cause: err,
          });
        }
      }
    } finally {
      if (timer !== undefined) clearInterval(timer);
    }
    const report = buildReport(analyzer.finish());
    if (options.json) {
      process.stdout.write(
        options.follow
          ? `${JSON.stringify({ type: 'report', ...report })}\n`
          : `${JSON.stringify(report, null, 2)}\n`,
      );
    } else {
      process.stdout.write(`${formatSummary(report, p)}\n`);
    }
    if (options.html !== undefined) {
      try {
        writeFileSync(options.html, renderHtml(report));
      } catch (err) {
        throw new H13Error(
          'H13_ERR_INPUT',
          `cannot write ${options.html}: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
    }
    const matched = failOn.filter((c) => (report.totals.byCode[c] ?? 0) > 0);
    if (matched.length > 0) {
      process.stderr.write(`h13 analyze: found ${matched.join(', ')} (--fail-on)\n`);
      return EXIT.FOUND;
    }
    return EXIT.OK;
  },
});

function parseFailOn(value: string | undefined): string[] {
  if (value === undefined) return [];
  const codes = value
    .split(',')
    .map((c) => c.trim().toUpperCase())
    .filter((c) => c !== '');
  for (const c of codes) {
    if (!isRouterCodeName(c) && !isPlatformCode(c)) {
      throw new H13Error(
        'H13_ERR_INVALID_OPTION',
        `--fail-on: ${JSON.stringify(c)} is not a router code (H10-H99) or a platform error (${Object.keys(PLATFORM_CODES).join(', ')})`,
        {
          field: '--fail-on',
        },
      );
    }
  }
  if (codes.length === 0)
    throw new H13Error('H13_ERR_INVALID_OPTION', '--fail-on: give codes such as H13,H18', {
      field: '--fail-on',
    });
  return codes;
}

function progressBar(name: string, size: number, position: () => number): () => void {
  let last = 0;
  return () => {
    const now = Date.now();
    if (now - last < 100) return;
    last = now;
    const done = Math.min(1, position() / size);
    const width = 30;
    const filled = Math.round(done * width);
    process.stderr.write(
      `\r${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${(done * 100).toFixed(0).padStart(3)}% ${name.slice(-40)}`,
    );
  };
}
