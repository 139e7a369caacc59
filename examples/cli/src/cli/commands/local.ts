import { startLocalAws } from '@kinesis-archive/local';
import { Command, Option } from 'commander';
import type { CommandContext } from '../common.js';

interface LocalOptions {
  kinesis: boolean;
  dynamodb: boolean;
  region: string;
  json?: boolean;
}

/** `kinesis-archive local`: starts the stand-ins and keeps them running until Ctrl-C. */
export function localCommand(ctx: CommandContext): Command {
  return new Command('local')
    .description('start kinesis-mock and DynamoDB Local on free ports; print their endpoints; stop on Ctrl-C')
    .addOption(new Option('--no-kinesis', 'do not start kinesis-mock'))
    .addOption(new Option('--no-dynamodb', 'do not start DynamoDB Local'))
    .addOption(new Option('--region <region>', 'region of the stand-ins').default('us-east-1'))
    .addOption(new Option('--json', 'print one JSON line { endpoints, env } once ready'))
    .addHelpText(
      'after',
      '\nExample:\n  kinesis-archive local\n  # in another shell, with the printed variables exported:\n' +
        '  kinesis-archive create-table --endpoint "$AWS_ENDPOINT_URL_DYNAMODB" --stream orders --mode ALL',
    )
    .action(async (options: LocalOptions) => {
      const aws = await startLocalAws({
        kinesis: options.kinesis,
        dynamodb: options.dynamodb,
        region: options.region,
      });
      try {
        if (options.json) {
          ctx.output.out(JSON.stringify({ endpoints: aws.endpoints, env: aws.env }));
        } else {
          ctx.output.out(
            'Local stand-ins are running (dummy credentials, in memory). Environment for SDKs and the AWS CLI:',
          );
          for (const [name, value] of Object.entries(aws.env)) ctx.output.out(`export ${name}=${value}`);
          ctx.output.out('Press Ctrl-C to stop.');
        }
        // The stand-ins' processes do not hold the event loop open: this timer does, until Ctrl-C.
        const keepAlive = setInterval(() => undefined, 1 << 30);
        await new Promise<void>((resolve) => {
          if (ctx.signal.aborted) resolve();
          ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        }).finally(() => clearInterval(keepAlive));
      } finally {
        await aws.stop();
        if (!options.json) ctx.output.err('stopped');
      }
    });
}
