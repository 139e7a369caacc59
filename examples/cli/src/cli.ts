/**
 * The `kinesis-archive` command line: `local`, `create-table`, `archive`, `query`, `scan`, `replay`, `compact`,
 * `quarantine`, `tail`.
 *
 * Exit codes: 0 success, 1 failure, 2 bad usage (unknown option, bad value, missing option).
 *
 * @module
 */
import { pathToFileURL } from 'node:url';
import { describeError, KinesisArchiveError } from '@kinesis-archive/core';
import { Command, CommanderError } from 'commander';
import { archiveCommand } from './cli/commands/archive.js';
import { compactCommand } from './cli/commands/compact.js';
import { createTableCommand } from './cli/commands/create-table.js';
import { localCommand } from './cli/commands/local.js';
import { quarantineCommand } from './cli/commands/quarantine.js';
import { queryCommand } from './cli/commands/query.js';
import { replayCommand } from './cli/commands/replay.js';
import { scanCommand } from './cli/commands/scan.js';
import { tailCommand } from './cli/commands/tail.js';
import type { CommandContext } from './cli/common.js';
import { UsageError } from './cli/errors.js';
import { type Output, processOutput } from './cli/output.js';

/** Builds the `kinesis-archive` program (commander) for a context. */
export function buildProgram(ctx: CommandContext): Command {
  const program = new Command('kinesis-archive')
    .description('Keep, compact and replay Amazon Kinesis streams in DynamoDB; run it all locally.')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (text) => ctx.output.out(text.replace(/\n$/, '')),
      writeErr: (text) => ctx.output.err(text.replace(/\n$/, '')),
    });
  for (const make of [
    localCommand,
    createTableCommand,
    archiveCommand,
    queryCommand,
    scanCommand,
    replayCommand,
    compactCommand,
    quarantineCommand,
    tailCommand,
  ]) {
    program.addCommand(make(ctx));
  }
  program.exitOverride();
  for (const command of program.commands) command.exitOverride();
  return program;
}

/**
 * Runs the command line `argv` (without `node` and the script) and resolves with the exit code. Ctrl-C (SIGINT)
 * and SIGTERM stop long-running commands cleanly.
 */
export async function runCli(argv: readonly string[], output: Output = processOutput): Promise<number> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const ctx: CommandContext = { output, signal: controller.signal, exitCode: 0 };
  try {
    await buildProgram(ctx).parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.exitCode === 0
      ) {
        return 0;
      }
      if (error.code === 'commander.help') return 0; // `kinesis-archive` alone prints help
      return 2; // commander already printed the message
    }
    if (error instanceof UsageError) {
      output.err(`kinesis-archive: ${error.message} (add --help for usage)`);
      return 2;
    }
    const code = error instanceof KinesisArchiveError ? ` [${error.code}]` : '';
    output.err(`kinesis-archive: error${code}: ${describeError(error)}`);
    return 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await runCli(process.argv.slice(2));
}
