#!/usr/bin/env node
/**
 * The `plugwire` command: `validate`, `diff`, `status`. Run through `npx plugwire …`.
 * @module
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { redactSecrets } from '../errors.js';
import { diff } from './diff.js';
import { EXIT_OK, EXIT_USAGE, UsageError, type Io } from './shared.js';
import { status } from './status.js';
import { validate } from './validate.js';
import { errorMessage } from '../internal/errorMessage.js';

export const HELP = `Usage: plugwire <command> [options]

Commands:
  validate <file> [--json]        check a config file; every problem by path and code
  diff <old> <new> [--json]       what a reload from <old> to <new> would do
  status <url> [--json]           a running manager's status page, as a table

Run "plugwire <command> --help" for a command's options.
Exit status: 0 ok, 1 invalid input or unreachable server, 2 wrong usage.
`;

const COMMANDS: Record<string, (args: string[], io: Io) => Promise<number>> = {
  validate,
  diff,
  status,
};

/** Runs the CLI with `argv` (without node and the script); resolves with the exit status. */
export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    io.out(HELP);
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const run = COMMANDS[command];
  if (run === undefined) {
    io.err(`plugwire: unknown command '${command}'\n\n${HELP}`);
    return EXIT_USAGE;
  }
  try {
    return await run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`plugwire ${command}: ${error.message}\nRun "plugwire ${command} --help".\n`);
      return EXIT_USAGE;
    }
    // Never a stack trace with config values in it: one redacted line.
    const message = errorMessage(error);
    io.err(`plugwire ${command}: ${redactSecrets(message)}\n`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const io: Io = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    () => {
      process.exitCode = 1;
    },
  );
}
