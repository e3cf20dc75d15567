/** Exit codes of every h13 command (docs/cli.md lists them; `h13 --help` prints them). */
export const EXIT = {
  /** Done, nothing found. */
  OK: 0,
  /** The command ran and found what it looks for: a probe finding, a silent close, a crash. */
  FOUND: 1,
  /** The command line was wrong: unknown option, bad value, missing argument. */
  USAGE: 2,
  /** The command could not do its job: cannot listen, cannot connect, cannot read input. */
  FAILURE: 3,
  /** The input held nothing the command could read (`analyze` on a file that is not a log). */
  NOTHING_READ: 4,
} as const;

export const EXIT_HELP = `Exit codes:
  0  done, nothing found
  1  found what it looks for (a closed-without-response, a probe finding, a crashed app)
  2  usage error (unknown option, bad value, missing argument)
  3  could not do its job (cannot listen, connect or read its input)
  4  nothing in the input could be read (analyze: not a log)`;
