import { type Command, Option } from 'commander';
import { type CliClients, type ConnectionOptions, createClients, REQUEST_TIMEOUT_MS } from './clients.js';
import type { Output } from './output.js';
import { parseInteger } from './parse.js';

/** What every command action gets besides its options. */
export interface CommandContext {
  output: Output;
  /** Aborts on Ctrl-C / SIGTERM. */
  signal: AbortSignal;
  /** The exit code when the action returns normally (0 unless a command sets it). */
  exitCode: number;
  /**
   * Set by a command that runs until it is stopped (`local`, `tail`, `archive` without `--until-idle`): Ctrl-C is
   * its normal end (exit 0), not an interruption (130).
   */
  runsUntilStopped: boolean;
}

/** Options every command takes. */
export interface CommonOptions extends ConnectionOptions {
  json?: boolean;
}

/** Adds `--endpoint`, `--kinesis-endpoint`, `--dynamodb-endpoint`, `--region`, `--timeout` and `--json` to a command. */
export function withCommonOptions(command: Command): Command {
  return command
    .addOption(new Option('--endpoint <url>', 'endpoint for every AWS service (e.g. a local stand-in)'))
    .addOption(new Option('--kinesis-endpoint <url>', 'Kinesis endpoint (wins over --endpoint)'))
    .addOption(
      new Option(
        '--dynamodb-endpoint <url>',
        'DynamoDB and DynamoDB Streams endpoint (wins over --endpoint)',
      ),
    )
    .addOption(
      new Option(
        '--region <region>',
        'AWS region (default: the SDK default chain; us-east-1 with an endpoint)',
      ),
    )
    .addOption(
      new Option(
        '--timeout <seconds>',
        `most time one request may wait for an answer, per attempt (default ${REQUEST_TIMEOUT_MS / 1000})`,
      ).argParser((v) => parseInteger('--timeout', v, 1, 3_600) * 1000),
    )
    .addOption(new Option('--json', 'machine-readable JSON on stdout'));
}

/**
 * Runs `fn` with clients built from the options (every request carries the command's abort signal), and closes
 * them afterwards.
 */
export async function withClients<T>(
  ctx: CommandContext,
  options: CommonOptions,
  fn: (clients: CliClients) => Promise<T>,
): Promise<T> {
  const clients = createClients(options, process.env, ctx.signal);
  try {
    return await fn(clients);
  } finally {
    clients.destroy();
  }
}
