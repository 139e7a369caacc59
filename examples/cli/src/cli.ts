/**
 * The `kinesis-archive` command line (`--version`): `local`, `create-stream`, `put`, `create-table`, `archive`, `query`, `scan`, `replay`, `compact`,
 * `quarantine`, `tail`.
 *
 * Exit codes: 0 success, 1 failure, 2 bad usage (unknown option, bad value, missing option), 130 interrupted
 * (Ctrl-C or SIGTERM; `local`, `tail` and `archive` without `--until-idle`, which run until stopped, exit 0).
 *
 * @module
 */

import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { archiveCommand } from './cli/commands/archive.js';
import { compactCommand } from './cli/commands/compact.js';
import { createStreamCommand } from './cli/commands/create-stream.js';
import { createTableCommand } from './cli/commands/create-table.js';
import { localCommand } from './cli/commands/local.js';
import { putCommand } from './cli/commands/put.js';
import { quarantineCommand } from './cli/commands/quarantine.js';
import { queryCommand } from './cli/commands/query.js';
import { replayCommand } from './cli/commands/replay.js';
import { scanCommand } from './cli/commands/scan.js';
import { tailCommand } from './cli/commands/tail.js';
import type { CommandContext } from './cli/common.js';
import { UsageError } from './cli/errors.js';
import { errorLine } from './cli/explain.js';
import { INTERRUPT_GRACE_MS, interruptHandler } from './cli/interrupt.js';
import { type Output, processOutput } from './cli/output.js';

export { INTERRUPT_GRACE_MS };

/** Builds the `kinesis-archive` program (commander) for a context. */
export function buildProgram(ctx: CommandContext): Command {
  const program = new Command('kinesis-archive')
    .description('Keep, compact and replay Amazon Kinesis streams in DynamoDB; run it all locally.')
    .version(cliVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (text) => ctx.output.out(text.replace(/\n$/, '')),
      writeErr: (text) => ctx.output.err(text.replace(/\n$/, '')),
    });
  for (const make of [
    localCommand,
    createStreamCommand,
    putCommand,
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

/** The version of this CLI (its package.json). */
export function cliVersion(): string {
  const pkg = createRequire(import.meta.url)('../package.json') as { version: string };
  return pkg.version;
}

/** Options of {@link runCli}. */
export interface RunCliOptions {
  /** Ends the process (a second Ctrl-C, or a command that did not stop within the grace time). */
  exit?: (code: number) => void;
}

/**
 * Runs the command line `argv` (without `node` and the script) and resolves with the exit code. The first Ctrl-C
 * (SIGINT) or SIGTERM aborts the command (every request carries the signal), which prints what it did and ends; a
 * second one, or a command still running after {@link INTERRUPT_GRACE_MS}, exits with 130 at once.
 */
export async function runCli(
  argv: readonly string[],
  output: Output = processOutput,
  options: RunCliOptions = {},
): Promise<number> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const controller = new AbortController();
  const interrupt = interruptHandler(controller, { output, exit });
  const stop = interrupt.onSignal;
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const ctx: CommandContext = { output, signal: controller.signal, exitCode: 0, runsUntilStopped: false };
  const interrupted = () => controller.signal.aborted && !ctx.runsUntilStopped;
  try {
    await buildProgram(ctx).parseAsync([...argv], { from: 'user' });
    return interrupted() ? 130 : ctx.exitCode;
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
    if (controller.signal.aborted) {
      output.err('kinesis-archive: interrupted');
      return ctx.runsUntilStopped ? 0 : 130;
    }
    output.err(`kinesis-archive: ${errorLine(error)}`);
    return 1;
  } finally {
    interrupt.dispose();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await runCli(process.argv.slice(2));
}
