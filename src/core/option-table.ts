/**
 * One typed option table per command or API drives parsing, validation, `--help` and the
 * docs (the hono/vitest way). This module holds the table's types and the one conversion of a
 * raw string into a typed, validated value, so the CLI, the router and the dyno manager read
 * options the same way and `src/router` need not import from `src/cli`.
 */

import { parseDuration } from './duration.js';
import { H13Error } from './errors.js';

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

/** A raw string (or undefined when absent) as the option's typed value; throws H13_ERR_INVALID_OPTION. */
export function convertOption(name: string, spec: OptionSpec, raw: unknown): unknown {
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
