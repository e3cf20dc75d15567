import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineCommand, formatHelp, parseCommandLine } from '../../src/cli/command.js';
import { isH13Error } from '../../src/core/errors.js';
import { packageVersion } from '../../src/core/package-root.js';
import { CLI } from '../helpers/paths.js';
import { spawnNode } from '../helpers/process.js';

const sample = defineCommand({
  name: 'sample',
  summary: 'A sample.',
  usage: 'sample [options] URL',
  options: {
    count: { type: 'integer', description: 'how many', default: 3, min: 1, max: 10 },
    wait: { type: 'duration', description: 'how long', default: 30_000 },
    mode: { type: 'string', description: 'which', choices: ['a', 'b'], default: 'a' },
    to: { type: 'strings', description: 'targets' },
    json: { type: 'boolean', description: 'JSON output' },
  },
  args: { min: 1, max: 1 },
  run: async () => 0,
});

describe('option table parsing', () => {
  it('gives typed values with defaults, and the rest after --', () => {
    const input = parseCommandLine(sample, [
      'http://x',
      '--count',
      '5',
      '--wait',
      '2s',
      '--to',
      'a',
      '--to',
      'b',
      '--json',
      '--',
      'node',
      '--flag',
    ]);
    assert.deepEqual(input.options, {
      count: 5,
      wait: 2000,
      mode: 'a',
      to: ['a', 'b'],
      json: true,
    });
    assert.deepEqual(input.args, ['http://x']);
    assert.deepEqual(input.rest, ['node', '--flag']);
  });

  it('refuses bad values, unknown options and missing arguments with stable codes', () => {
    const cases: Array<[string[], string]> = [
      [['x', '--count', '0'], 'H13_ERR_INVALID_OPTION'],
      [['x', '--count', 'many'], 'H13_ERR_INVALID_OPTION'],
      [['x', '--wait', 'soon'], 'H13_ERR_INVALID_OPTION'],
      [['x', '--mode', 'c'], 'H13_ERR_INVALID_OPTION'],
      [['x', '--nope'], 'H13_ERR_UNKNOWN_OPTION'],
      [[], 'H13_ERR_MISSING_ARGUMENT'],
      [['x', 'y'], 'H13_ERR_INVALID_OPTION'],
    ];
    for (const [argv, code] of cases) {
      assert.throws(
        () => parseCommandLine(sample, argv),
        (err: unknown) => isH13Error(err) && err.code === code,
        argv.join(' '),
      );
    }
  });

  it('renders --help from the same table', () => {
    const help = formatHelp(sample);
    assert.match(help, /^Usage: h13 sample \[options\] URL$/m);
    assert.match(help, /--count <n>\s+how many \[default: 3\]/);
    assert.match(help, /--wait <time>\s+how long \[default: 30s\]/);
    assert.match(help, /--mode <value>\s+which \(a\|b\) \[default: a\]/);
  });
});

describe('the h13 binary', () => {
  it('prints its version', async () => {
    const p = spawnNode(CLI, ['--version']);
    assert.equal(await p.exited(), 0);
    assert.equal(p.stdout().trim(), packageVersion());
  });

  it('lists commands and exit codes in --help', async () => {
    const p = spawnNode(CLI, ['--help']);
    assert.equal(await p.exited(), 0);
    assert.match(p.stdout(), /^ {2}demo /m);
    assert.match(p.stdout(), /^ {2}bad-client /m);
    assert.match(p.stdout(), /Exit codes:/);
  });

  it('has --help for each command', async () => {
    for (const name of ['demo', 'bad-client']) {
      const p = spawnNode(CLI, [name, '--help']);
      assert.equal(await p.exited(), 0);
      assert.match(p.stdout(), new RegExp(`^Usage: h13 ${name}`, 'm'));
    }
  });

  it('exits 2 on an unknown command or option', async () => {
    const unknown = spawnNode(CLI, ['frobnicate']);
    assert.equal(await unknown.exited(), 2);
    assert.match(unknown.stderr(), /unknown command "frobnicate"/);
    const badOption = spawnNode(CLI, ['demo', '--client-error', 'maybe']);
    assert.equal(await badOption.exited(), 2);
    assert.match(
      badOption.stderr(),
      /--client-error: "maybe" is not one of default, destroy, answer \(H13_ERR_INVALID_OPTION\)/,
    );
  });

  it('says each error once, with one `h13 COMMAND:` prefix and its code', async () => {
    const unknown = spawnNode(CLI, ['frobnicate']);
    assert.equal(await unknown.exited(), 2);
    assert.match(
      unknown.stderr(),
      /^h13: unknown command "frobnicate" \(H13_ERR_UNKNOWN_COMMAND\)$/m,
    );
    for (const [argv, message] of [
      [['probe', '--bogus'], /^h13 probe: Unknown option '--bogus'.*\(H13_ERR_UNKNOWN_OPTION\)$/m],
      [['probe'], /^h13 probe: usage: h13 probe .*\(H13_ERR_MISSING_ARGUMENT\)$/m],
      [['run', 'extra'], /^h13 run: unexpected argument "extra" \(H13_ERR_INVALID_OPTION\)$/m],
    ] as const) {
      const p = spawnNode(CLI, [...argv]);
      assert.equal(await p.exited(), 2);
      assert.match(p.stderr(), message);
      assert.equal(p.stderr().match(/h13 [a-z-]+:/g)?.length, 1, p.stderr());
    }
  });

  it('refuses a bare number where a duration goes (probe --timeout 5, run --grace 5)', async () => {
    for (const [command, option, ...args] of [
      ['probe', '--timeout', 'http://127.0.0.1:1/'],
      ['run', '--grace'],
    ] as const) {
      const p = spawnNode(CLI, [command, option, '5', ...args]);
      assert.equal(await p.exited(), 2);
      assert.match(
        p.stderr(),
        new RegExp(
          `^h13 ${command}: ${option}: "5" has no unit; write 5s for seconds or 5ms for milliseconds \\(units: ms, s, m, h\\) \\(H13_ERR_INVALID_OPTION\\)$`,
          'm',
        ),
      );
    }
  });
});
