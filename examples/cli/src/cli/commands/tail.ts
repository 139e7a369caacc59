import type { AttributeValue } from '@aws-sdk/client-dynamodb-streams';
import { describeError } from '@kinesis-archive/core';
import { DynamoDBStream } from '@kinesis-archive/dynamodb-stream';
import { Command, Option } from 'commander';
import { imageJson } from '../attributes.js';
import { type CommandContext, type CommonOptions, withClients, withCommonOptions } from '../common.js';
import { CommandError, UsageError } from '../errors.js';
import { parseInteger } from '../parse.js';

type Raw = Record<string, AttributeValue>;

import { describeTable } from '../tables.js';

interface TailOptions extends CommonOptions {
  table?: string;
  streamArn?: string;
  from: 'trim-horizon' | 'latest';
  pollInterval: number;
  limit?: number;
}

/** `kinesis-archive tail`: follows a DynamoDB stream and prints each change. */
export function tailCommand(ctx: CommandContext): Command {
  return withCommonOptions(
    new Command('tail')
      .description(
        "follow a table's DynamoDB stream and print each change (INSERT / MODIFY / REMOVE) until Ctrl-C",
      )
      .addOption(new Option('--table <name>', 'table whose stream to follow'))
      .addOption(new Option('--stream-arn <arn>', 'the DynamoDB stream ARN (instead of --table)'))
      .addOption(
        new Option('--from <position>', 'where to start')
          .choices(['trim-horizon', 'latest'])
          .default('trim-horizon'),
      )
      .addOption(
        new Option('--poll-interval <ms>', 'wait between polls')
          .argParser((v) => parseInteger('--poll-interval', v, 10, 600_000))
          .default(500),
      )
      .addOption(
        new Option('--limit <n>', 'exit after n changes').argParser((v) => parseInteger('--limit', v)),
      ),
  )
    .addHelpText('after', '\nExample:\n  kinesis-archive tail --table orders --from latest --json')
    .action(async (options: TailOptions) => {
      ctx.runsUntilStopped = true;
      await withClients(ctx, options, async ({ dynamodb, dynamodbStreams }) => {
        let streamArn = options.streamArn;
        if (!streamArn) {
          if (!options.table) throw new UsageError('give --table or --stream-arn');
          streamArn = (await describeTable(dynamodb, options.table)).LatestStreamArn;
          if (!streamArn) {
            throw new CommandError(
              'NO_STREAM',
              `table ${JSON.stringify(options.table)} has no stream enabled`,
              `enable one: aws dynamodb update-table --table-name ${options.table} --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES`,
            );
          }
        }
        const stream = new DynamoDBStream({
          client: dynamodbStreams,
          streamArn,
          startingPosition: options.from === 'latest' ? 'LATEST' : 'TRIM_HORIZON',
          // raw images, printed by imageJson: numbers above 2^53 exact, binaries in base64, sets as arrays
          unmarshall: false,
        });
        const done = new AbortController();
        let seen = 0;
        stream.on('record', (record) => {
          if (options.limit !== undefined && seen >= options.limit) return;
          seen++;
          const keys = imageJson(record.keys as Raw);
          const newImage = record.newImage ? imageJson(record.newImage as Raw) : undefined;
          const oldImage = record.oldImage ? imageJson(record.oldImage as Raw) : undefined;
          if (options.json) {
            ctx.output.out(
              JSON.stringify({
                eventName: record.eventName,
                sequenceNumber: record.sequenceNumber,
                shardId: record.shardId,
                keys,
                newImage,
                oldImage,
                ttlDelete: record.ttlDelete,
              }),
            );
          } else {
            const image = newImage ?? oldImage;
            ctx.output.out(
              `${record.eventName.padEnd(6)}  ${JSON.stringify(keys)}  ${image ? JSON.stringify(image) : ''}`,
            );
          }
          if (options.limit !== undefined && seen >= options.limit) done.abort();
        });
        stream.on('data loss', (info) => ctx.output.err(`data loss: ${JSON.stringify(info)}`));
        stream.on('error', (error) => ctx.output.err(`error (the stream goes on): ${describeError(error)}`));
        stream.start({ pollIntervalMs: options.pollInterval });
        await new Promise<void>((resolve) => {
          const finish = () => resolve();
          if (ctx.signal.aborted || done.signal.aborted) return resolve();
          ctx.signal.addEventListener('abort', finish, { once: true });
          done.signal.addEventListener('abort', finish, { once: true });
        });
        await stream.stop();
      });
    });
}
