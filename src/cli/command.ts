/**
 * One typed option table per command drives parsing (node:util parseArgs) and `--help`
 * (the hono/vitest way). Values are validated once, here, with H13_ERR_* errors; commands get
 * typed values and never look at argv.
 *
 * Why node:util parseArgs: it is Node's own maintained parser (stable since 20.0), has no
 * dependencies, and handles `--` for `h13 run -- node app.js`; what it lacks (numbers,
 * durations, choices, help) is table-driven here.
 */

import { parseArgs } from 'node:util';
import { formatDuration } from '../core/duration.js';
import { H13Error } from '../core/errors.js';
import { convertOption, type OptionTable, type ParsedOptions } from '../core/option-table.js';

export type { OptionSpec, OptionTable, ParsedOptions } from '../core/option-table.js';

export interface CommandInput<T extends OptionTable> {
  readonly options: ParsedOptions<T>;
  /** Positional arguments before `--`. */
  readonly args: readonly string[];
  /** Everything after `--`, untouched (a command line to run). */
  readonly rest: readonly string[];
}

export interface Command<T extends OptionTable = OptionTable> {
  readonly name: string;
  readonly summary: string;
  /** The usage line after `h13 `. */
  readonly usage: string;
  /** Paragraphs shown under the usage line in --help. */
  readonly details?: string;
  readonly options: T;
  /** How many positionals before `--` it takes. */
  readonly args: { readonly min: number; readonly max: number };
  readonly run: (input: CommandInput<T>) => Promise<number>;
}

/** Keeps the literal option table type while checking it against Command. */
export function defineCommand<const T extends OptionTable>(command: Command<T>): Command<T> {
  return command;
}

export function parseCommandLine<T extends OptionTable>(
  command: Command<T>,
  argv: readonly string[],
): CommandInput<T> {
  const dashDash = argv.indexOf('--');
  const own = dashDash < 0 ? argv : argv.slice(0, dashDash);
  const rest = dashDash < 0 ? [] : argv.slice(dashDash + 1);
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> =
    {};
  for (const [name, spec] of Object.entries(command.options)) {
    config[name] = {
      type: spec.type === 'boolean' ? 'boolean' : 'string',
      ...(spec.short === undefined ? {} : { short: spec.short }),
      ...(spec.type === 'strings' ? { multiple: true } : {}),
    };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...own], options: config, allowPositionals: true, strict: true });
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new H13Error(
      code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
        ? 'H13_ERR_UNKNOWN_OPTION'
        : 'H13_ERR_INVALID_OPTION',
      `h13 ${command.name}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const positionals = parsed.positionals;
  if (positionals.length < command.args.min) {
    throw new H13Error(
      'H13_ERR_MISSING_ARGUMENT',
      `h13 ${command.name}: usage: h13 ${command.usage}`,
    );
  }
  if (positionals.length > command.args.max) {
    throw new H13Error(
      'H13_ERR_INVALID_OPTION',
      `h13 ${command.name}: unexpected argument ${JSON.stringify(positionals[command.args.max])}`,
    );
  }
  const options: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(command.options)) {
    options[name] = convertOption(name, spec, parsed.values[name]);
  }
  return { options: options as ParsedOptions<T>, args: positionals, rest };
}

export function formatHelp<T extends OptionTable>(command: Command<T>): string {
  const lines = [`Usage: h13 ${command.usage}`, '', command.summary];
  if (command.details !== undefined) lines.push('', command.details);
  const rows: Array<[string, string]> = [];
  for (const [name, spec] of Object.entries(command.options)) {
    const value =
      spec.type === 'boolean'
        ? ''
        : ` <${spec.valueName ?? (spec.type === 'duration' ? 'time' : spec.type === 'integer' ? 'n' : 'value')}>`;
    const flag = `${spec.short === undefined ? '    ' : `-${spec.short}, `}--${name}${value}`;
    let text = spec.description;
    if (spec.type === 'string' && spec.choices !== undefined)
      text += ` (${spec.choices.join('|')})`;
    if ('default' in spec && spec.default !== undefined && spec.default !== false) {
      const shown =
        spec.type === 'duration' ? formatDuration(spec.default as number) : String(spec.default);
      text += ` [default: ${shown}]`;
    }
    rows.push([flag, text]);
  }
  rows.push(['-h, --help', 'show this help']);
  const width = Math.min(34, Math.max(...rows.map(([f]) => f.length)) + 2);
  lines.push('', 'Options:');
  for (const [flag, text] of rows) {
    lines.push(
      flag.length + 2 > width
        ? `  ${flag}\n  ${' '.repeat(width)}${text}`
        : `  ${flag.padEnd(width)}${text}`,
    );
  }
  return lines.join('\n');
}
