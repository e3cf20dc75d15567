#!/usr/bin/env node
import { H13Error, isH13Error } from '../core/errors.js';
import { packageVersion } from '../core/package-root.js';
import { type Command, formatHelp, parseCommandLine } from './command.js';
import { analyzeCommand } from './commands/analyze.js';
import { badClientCommand } from './commands/bad-client.js';
import { demoCommand } from './commands/demo.js';
import { drainCommand } from './commands/drain.js';
import { probeCommand } from './commands/probe.js';
import { routerCommand } from './commands/router.js';
import { runCommand } from './commands/run.js';
import { EXIT, EXIT_HELP } from './exit-codes.js';

// Commands are registered here; each lives in ./commands/<name>.ts with its option table.
const COMMANDS: readonly Command<never>[] = [
  demoCommand,
  badClientCommand,
  runCommand,
  analyzeCommand,
  routerCommand,
  probeCommand,
  drainCommand,
] as unknown as Command<never>[];

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'Usage: h13 <command> [options]',
    '',
    'Reproduce, see, explain and prevent Heroku\'s H13 "Connection closed without response".',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Run "h13 <command> --help" for its options.',
    '',
    EXIT_HELP,
  ].join('\n');
}

/** The command called `name`; H13_ERR_UNKNOWN_COMMAND when there is none. */
export function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name) as Command | undefined;
  if (command === undefined) {
    throw new H13Error('H13_ERR_UNKNOWN_COMMAND', `unknown command ${JSON.stringify(name)}`, {
      field: name,
    });
  }
  return command;
}

/** Every H13Error reaches the user once, with one `h13 COMMAND:` prefix (added here only). */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(mainHelp());
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (name === '--version' || name === '-v') {
    console.log(packageVersion());
    return EXIT.OK;
  }
  let command: Command;
  try {
    command = findCommand(name);
  } catch (err) {
    if (!isH13Error(err)) throw err;
    console.error(`h13: ${err.message} (${err.code})\n\n${mainHelp()}`);
    return EXIT.USAGE;
  }
  const own = rest.indexOf('--') < 0 ? rest : rest.slice(0, rest.indexOf('--'));
  if (own.includes('--help') || own.includes('-h')) {
    console.log(`${formatHelp(command)}\n\n${EXIT_HELP}`);
    return EXIT.OK;
  }
  try {
    return await command.run(parseCommandLine(command, rest));
  } catch (err) {
    if (isH13Error(err)) {
      console.error(`h13 ${command.name}: ${err.message} (${err.code})`);
      const usage =
        err.code.startsWith('H13_ERR_INVALID') ||
        err.code.startsWith('H13_ERR_UNKNOWN') ||
        err.code === 'H13_ERR_MISSING_ARGUMENT';
      return usage ? EXIT.USAGE : EXIT.FAILURE;
    }
    console.error(err);
    return EXIT.FAILURE;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = EXIT.FAILURE;
  },
);
