import { startLocalAws } from '@kinesis-archive/local';
import { Command, Option } from 'commander';
import type { CommandContext } from '../common.js';
import { CommandError, UsageError } from '../errors.js';

/** What a default SDK v3 client needs besides the printed environment (kinesis-mock speaks HTTP/1.1 only). */
export const SDK_CLIENT_NOTE =
  "SDK v3 clients: KinesisClient needs an HTTP/1.1 handler (new KinesisClient({ requestHandler: new NodeHttpHandler() }) from '@smithy/node-http-handler'), else it fails with 'Protocol error'; DynamoDB clients work as they are";

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
      ctx.runsUntilStopped = true;
      if (!options.kinesis && !options.dynamodb) {
        throw new UsageError('--no-kinesis with --no-dynamodb starts nothing: drop one of them');
      }
      const names = [options.kinesis && 'kinesis-mock', options.dynamodb && 'DynamoDB Local'].filter(Boolean);
      const started = Date.now();
      ctx.output.err(`starting ${names.join(' and ')} (usually 5-25 s)...`);
      const heartbeat = setInterval(
        () => ctx.output.err(`still starting (${Math.round((Date.now() - started) / 1000)} s)...`),
        5_000,
      );
      const aws = await startLocalAws({
        kinesis: options.kinesis,
        dynamodb: options.dynamodb,
        region: options.region,
      }).finally(() => clearInterval(heartbeat));
      ctx.output.err(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      try {
        if (options.json) {
          ctx.output.out(JSON.stringify({ endpoints: aws.endpoints, env: aws.env, sdk: SDK_CLIENT_NOTE }));
        } else {
          ctx.output.out(
            'Local stand-ins are running (dummy credentials, in memory). Environment for SDKs and the AWS CLI:',
          );
          for (const [name, value] of Object.entries(aws.env)) ctx.output.out(`export ${name}=${value}`);
          ctx.output.out(`# ${SDK_CLIENT_NOTE}`);
          ctx.output.out('Press Ctrl-C to stop.');
        }
        // The stand-ins' processes do not hold the event loop open: this timer does, until Ctrl-C.
        const keepAlive = setInterval(() => undefined, 1 << 30);
        const died = await new Promise<Awaited<typeof aws.died> | undefined>((resolve) => {
          if (ctx.signal.aborted) resolve(undefined);
          ctx.signal.addEventListener('abort', () => resolve(undefined), { once: true });
          void aws.died.then(resolve);
        }).finally(() => clearInterval(keepAlive));
        if (died) {
          const last = died.output.split('\n').slice(-3).join(' | ');
          throw new CommandError(
            'STAND_IN_DIED',
            `${died.name} exited (code ${died.exitCode ?? 'none, killed by a signal'})${last ? `; its last output: ${last}` : ''}`,
            'the other stand-in was stopped too; run kinesis-archive local again',
          );
        }
      } finally {
        await aws.stop();
        if (!options.json) ctx.output.err('stopped');
      }
    });
}
