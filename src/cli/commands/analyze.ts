import { writeFileSync } from 'node:fs';
import type { Analyzer as AnalyzerType } from '../../analyze/analyzer.js';
import { Analyzer } from '../../analyze/analyzer.js';
import { followChunks } from '../../analyze/follow-file.js';
import { formatsHelp } from '../../analyze/formats/index.js';
import type { Feeder } from '../../analyze/input.js';
import { createFeeder, drain } from '../../analyze/input.js';
import { isPlatformCode, PLATFORM_CODES } from '../../analyze/platform-errors.js';
import { decodedChunks, openInput } from '../../analyze/read-chunks.js';
import { buildReport, DIAGNOSIS_SCHEMA, diagnosisJson } from '../../analyze/report.js';
import { renderHtml } from '../../analyze/report-html.js';
import { formatDiagnosis, formatSummary, paint } from '../../analyze/report-text.js';
import { isRouterCodeName } from '../../core/codes.js';
import { H13Error } from '../../core/errors.js';
import { safeJson } from '../../core/safe-json.js';
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
    "in heroku or json format, the guard's lines, pasted lines) from the files given (.gz too)\n" +
    'or stdin.\n' +
    'Examples:\n' +
    '  heroku logs -n 1500 | h13 analyze\n' +
    '  heroku logs --tail | h13 analyze --follow\n' +
    '  h13 analyze logs.txt.gz --html report.html --fail-on H13,H18\n' +
    'Exits 0 when the analysis completed (errors found or not), 1 when --fail-on matched,\n' +
    '2 on a usage error, 3 when an input could not be read, 4 when nothing in it could be read\n' +
    'as a log line. Input formats:\n' +
    `${formatsHelp()}\n` +
    'See docs/analyze.md.',
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
      description:
        'print each diagnosis as soon as its evidence window closes; with files, follow the last one as it grows (like tail -f) until Ctrl-C',
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
                  ? `${safeJson({ type: 'diagnosis', schema: DIAGNOSIS_SCHEMA, ...diagnosisJson(d) })}\n`
                  : `${formatDiagnosis(diagnosisJson(d), p)}\n\n`,
              ),
          }
        : {}),
    });
    const feeder = createFeeder(analyzer);
    const timer = options.follow ? setInterval(() => analyzer.flushWall(), 100) : undefined;
    // --follow FILE: the last file is followed like tail -f until SIGINT/SIGTERM.
    const followed = options.follow && files.length > 0 ? files[files.length - 1] : undefined;
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    if (followed !== undefined) {
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    }
    try {
      for (const file of files) {
        if (file === followed) {
          let chunks: AsyncIterable<Buffer>;
          try {
            chunks = followChunks(file, stop.signal);
            await drainUntil(chunks, feeder);
          } catch (err) {
            throw new H13Error('H13_ERR_INPUT', `cannot read ${file}: ${(err as Error).message}`, {
              cause: err,
            });
          }
          const left = feeder.discard();
          if (left > 0)
            process.stderr.write(
              `h13 analyze: ${file}: a half-written last line (${left} bytes) was left unread\n`,
            );
          continue;
        }
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
          // What was read is kept and reported; the input is marked, the next file read.
          truncated(analyzer, feeder, file, err);
        } finally {
          if (bar !== undefined) process.stderr.write('\r\u001b[2K');
        }
      }
      if (useStdin) {
        try {
          await drain(decodedChunks(process.stdin), feeder);
        } catch (err) {
          truncated(analyzer, feeder, 'stdin', err);
        }
      }
    } finally {
      if (timer !== undefined) clearInterval(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    const report = buildReport(analyzer.finish());
    if (options.json) {
      process.stdout.write(
        options.follow
          ? `${safeJson({ type: 'report', ...report })}\n`
          : `${safeJson(report, 2)}\n`,
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
    if (report.input.parsed === 0) {
      // A wrong file must not pass --fail-on in CI as "no errors".
      const first = report.input.unparsedSamples[0];
      process.stderr.write(
        `h13 analyze: nothing in the input could be read as a log line (${report.input.records} entries${first === undefined ? '' : `, first: ${first}`})\n`,
      );
      return EXIT.NOTHING_READ;
    }
    const matched = failOn.filter((c) => (report.totals.byCode[c] ?? 0) > 0);
    if (matched.length > 0) {
      process.stderr.write(`h13 analyze: found ${matched.join(', ')} (--fail-on)\n`);
      return EXIT.FOUND;
    }
    return EXIT.OK;
  },
});

/** An input that failed part-way: what was read stays, the input is marked truncated. */
function truncated(analyzer: AnalyzerType, feeder: Feeder, name: string, err: unknown): void {
  feeder.end();
  const why = (err as Error).message;
  if (analyzer.stats.truncatedInputs.length < 64)
    analyzer.stats.truncatedInputs.push(`${name}: ${why}`.slice(0, 300));
  process.stderr.write(
    `h13 analyze: ${name} ended early (${why}); the report covers what was read\n`,
  );
}

/** Chunks of a followed file into the feeder, without its end (a last line may be half-written). */
async function drainUntil(chunks: AsyncIterable<Buffer>, feeder: Feeder): Promise<void> {
  for await (const chunk of chunks) feeder.write(chunk);
}

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
