/**
 * The input formats, in the order the line reader tries them on a line the `heroku logs` fast
 * path did not take. The reader, the input stats (`input.formats`), `h13 analyze --help` and
 * docs/analyze.md ("Inputs", checked by test/analyze/docs.test.ts) are all derived from this
 * table.
 */

import { accessFormat } from './access.js';
import { bareFormat } from './bare.js';
import type { LineFormat } from './format.js';
import { herokuFormat } from './heroku.js';
import { jsonFormat } from './json.js';
import { papertrailFormat } from './papertrail.js';
import { papertrailTsvFormat } from './papertrail-tsv.js';
import { syslogFormat } from './syslog.js';

export type { FormatContext, LineFormat } from './format.js';

export const FORMATS: readonly LineFormat[] = [
  herokuFormat,
  syslogFormat,
  jsonFormat,
  papertrailFormat,
  papertrailTsvFormat,
  bareFormat,
  accessFormat,
];

export const FORMAT_IDS: readonly string[] = FORMATS.map((f) => f.id);

/** The count of lines read in each format, all zero. */
export function emptyFormatCounts(): Record<string, number> {
  return Object.fromEntries(FORMAT_IDS.map((id) => [id, 0]));
}

/** For `--help`: one line per format. */
export function formatsHelp(): string {
  return FORMATS.map((f) => `  ${f.id.padEnd(15)} ${f.title.replace(/`/g, '')}`).join('\n');
}

/** docs/analyze.md's generated part `analyze-formats`: one entry per format with its example. */
export function renderFormatsDoc(): string {
  return FORMATS.map(
    (f) => `- **${f.title}** (\`${f.id}\`): ${f.notes}\n\n  \`\`\`\n  ${f.example}\n  \`\`\``,
  ).join('\n');
}
