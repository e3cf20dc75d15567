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
import { formatDuration, parseDuration } from '../core/duration.js';
import { H13Error } from '../core/errors.js';

interface Base {
  readonly description: string;
  readonly short?: string;
  /** Name shown for the value in --help. */
  readonly valueName?: string;
}
export type OptionSpec =
  | (Base & { readonly type: 'boolean'; readonly default?: boolean })
  | (Base & {
      readonly type: 'string';
      readonly default?: string;
      readonly choices?: readonly string[];
    })
  | (Base & { readonly type: 'strings' })
  | (Base & {
      readonly type: 'integer';
      readonly default?: number;
      readonly min?: number;
      readonly max?: number;
    })
  | (Base & { readonly type: 'duration'; readonly default?: number });

export type OptionTable = Readonly<Record<string, OptionSpec>>;

type ValueOf<S extends OptionSpec> = S extends { type: 'boolean' }
  ? boolean
  : S extends { type: 'strings' }
    ? string[]
    : S extends { type: 'string'; default: string }
      ? string
      : S extends { type: 'string' }
        ? string | undefined
        : S extends { default: number }
          ? number
          : number | undefined;

export type ParsedOptions<T extends OptionTable> = { -readonly [K in keyof T]: ValueOf<T[K]> };

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
    options[name] = convert(name, spec, parsed.values[name]);
  }
  return { options: options as ParsedOptions<T>, args: positionals, rest };
}

function convert(name: string, spec: OptionSpec, raw: unknown): unknown {
  const field = `--${name}`;
  switch (spec.type) {
    case 'boolean':
      return raw === undefined ? (spec.default ?? false) : raw;
    case 'strings':
      return raw === undefined ? [] : raw;
    case 'string': {
      if (raw === undefined) return spec.default;
      const value = raw as string;
      if (spec.choices !== undefined && !spec.choices.includes(value)) {
        throw new H13Error(
          'H13_ERR_INVALID_OPTION',
          `${field}: ${JSON.stringify(value)} is not one of ${spec.choices.join(', ')}`,
          { field },
        );
      }
      return value;
    }
    case 'integer': {
      if (raw === undefined) return spec.default;
      const text = raw as string;
      const n = Number(text);
      if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(n)) {
        throw new H13Error(
          'H13_ERR_INVALID_OPTION',
          `${field}: ${JSON.stringify(text)} is not a whole number`,
          {
            field,
          },
        );
      }
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        throw new H13Error(
          'H13_ERR_INVALID_OPTION',
          `${field}: ${n} is out of range (${spec.min ?? '-∞'} to ${spec.max ?? '∞'})`,
          { field },
        );
      }
      return n;
    }
    case 'duration':
      return raw === undefined ? spec.default : parseDuration(raw as string, field);
  }
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
