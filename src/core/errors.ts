/**
 * Every error h13 throws on purpose, with a stable code (undici/fastify style).
 * docs/errors.md lists each code and is kept in sync by test/core/errors-doc.test.ts.
 */

export const ERROR_CODES = {
  H13_ERR_INVALID_OPTION: 'an option has a value of the wrong type or out of range',
  H13_ERR_UNKNOWN_OPTION: 'an option that the command does not take',
  H13_ERR_MISSING_ARGUMENT: 'a required argument or option was not given',
  H13_ERR_UNKNOWN_COMMAND: 'the CLI was asked for a subcommand it does not have',
  H13_ERR_INVALID_URL: 'a URL that cannot be parsed or is not http://',
  H13_ERR_NO_PROCFILE: 'no command was given and ./Procfile has no web: line',
  H13_ERR_LISTEN: 'a server could not listen on the port it was given',
  H13_ERR_PHASE: 'a request moved between phases in an order the state machine forbids (a bug)',
  H13_ERR_INPUT: 'an input file or stream could not be read (missing, unreadable, corrupt gzip)',
  H13_ERR_STORE: "the drain's database could not be opened, migrated or written",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class H13Error extends Error {
  readonly code: ErrorCode;
  /** The option, argument or field the error is about, when there is one. */
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'H13Error';
    this.code = code;
    this.field = options.field;
  }
}

export function isH13Error(err: unknown, code?: ErrorCode): err is H13Error {
  return err instanceof H13Error && (code === undefined || err.code === code);
}
