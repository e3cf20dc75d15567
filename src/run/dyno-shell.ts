/**
 * How a Procfile line becomes a process, the way Heroku starts it: through bash. Heroku's
 * dynos run a Procfile command with `bash -c` (heroku-buildpack-nodejs#217: "`npm start`
 * doesn't `exec` ... the way `bash -c` does"), and bash `exec`s a `-c` string that is a single
 * simple command, so `web: node index.js` makes node the dyno's main process. Debian's
 * `/bin/sh` (dash) forks instead and stays the main process: on SIGTERM the shell exits at
 * once and the dyno ends with it, cutting node mid-drain, which Heroku would never do.
 *
 * Without bash, `/bin/sh -c 'exec COMMAND'` gives the same process tree for a single simple
 * command; a compound one (`a && b`, pipes, redirections) keeps the shell as main process, and
 * the caller is told so (`note`).
 */

import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface ShellLaunch {
  /** argv of the dyno's main process. */
  readonly argv: readonly string[];
  /** Why this launch differs from Heroku's, when it does (no bash and a compound command). */
  readonly note: string | null;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** bash on the dyno's PATH, else /bin/bash, else null. */
export function findBash(env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && executable(join(dir, 'bash'))) return join(dir, 'bash');
  }
  return executable('/bin/bash') ? '/bin/bash' : null;
}

/**
 * A single simple command: no list, pipe, redirection, subshell or substitution, and no
 * leading `NAME=value` (which `exec` would take for the command's name).
 */
export function isSimpleCommand(command: string): boolean {
  return !/[;&|<>()`\n]/.test(command) && !/^\s*[A-Za-z_][A-Za-z0-9_]*=/.test(command);
}

export function shellLaunch(command: string, bash: string | null): ShellLaunch {
  if (bash !== null) return { argv: [bash, '-c', command], note: null };
  if (isSimpleCommand(command)) return { argv: ['/bin/sh', '-c', `exec ${command}`], note: null };
  return {
    argv: ['/bin/sh', '-c', command],
    note:
      "bash was not found, so this Procfile line runs under /bin/sh, which stays the dyno's main " +
      'process for a compound command (Heroku runs it with bash); install bash for the same ' +
      'process tree as on Heroku',
  };
}

/** The program a dyno's main process runs, for notes: `npm` for `npm start`. */
export function mainProgram(command: readonly string[] | string): string {
  const words =
    typeof command === 'string'
      ? command
          .trim()
          .split(/\s+/)
          .filter((w) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w))
      : [...command];
  const first = words[0] ?? '';
  return first.slice(first.lastIndexOf('/') + 1);
}

/** npm or npx: a launcher that exits on SIGTERM without waiting for the app it started. */
export function isNpmLauncher(command: readonly string[] | string): boolean {
  const program = mainProgram(command);
  return program === 'npm' || program === 'npx';
}
