import {
  AddTagsToStreamCommand,
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import type { ArchiveMode } from '@kinesis-archive/archive';
import { MODE_TAG } from '@kinesis-archive/archive';
import { sleep } from '@kinesis-archive/core';
import { Command, Option } from 'commander';
import { type CommandContext, type CommonOptions, withClients, withCommonOptions } from '../common.js';
import { CommandError } from '../errors.js';
import { parseInteger, parseMode } from '../parse.js';

interface CreateStreamOptions extends CommonOptions {
  stream: string;
  shards: number;
  mode?: ArchiveMode;
}

/** Most time a new stream may take to become ACTIVE. */
const ACTIVE_TIMEOUT_MS = 120_000;

async function waitActive(kinesis: KinesisClient, streamName: string, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + ACTIVE_TIMEOUT_MS;
  for (;;) {
    const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    if (Date.now() > deadline) {
      throw new CommandError(
        'STREAM_NOT_ACTIVE',
        `stream ${JSON.stringify(streamName)} is not ACTIVE after ${ACTIVE_TIMEOUT_MS / 1000} s`,
        'check it in the console, then run the command again',
      );
    }
    await sleep(500, signal); // rejects with AbortError on Ctrl-C
  }
}

/** `kinesis-archive create-stream`: creates a Kinesis stream (idempotent), tagged with its archive mode. */
export function createStreamCommand(ctx: CommandContext): Command {
  return withCommonOptions(
    new Command('create-stream')
      .description(
        'create a Kinesis stream and wait until it is ACTIVE; with --mode, tag it StreamArchiveMode; does nothing if it exists',
      )
      .addOption(new Option('--stream <name>', 'stream name').makeOptionMandatory())
      .addOption(
        new Option('--shards <n>', 'number of shards (provisioned mode)')
          .argParser((v) => parseInteger('--shards', v, 1, 10_000))
          .default(1),
      )
      .addOption(
        new Option('--mode <mode>', 'tag the stream StreamArchiveMode=ALL|LATEST for the archiver').argParser(
          parseMode,
        ),
      ),
  )
    .addHelpText('after', '\nExample:\n  kinesis-archive create-stream --stream orders --shards 2 --mode ALL')
    .action(async (options: CreateStreamOptions) => {
      await withClients(ctx, options, async ({ kinesis }) => {
        let created = true;
        try {
          await kinesis.send(
            new CreateStreamCommand({ StreamName: options.stream, ShardCount: options.shards }),
          );
        } catch (error) {
          if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error;
          created = false;
        }
        await waitActive(kinesis, options.stream, ctx.signal);
        if (options.mode) {
          await kinesis.send(
            new AddTagsToStreamCommand({ StreamName: options.stream, Tags: { [MODE_TAG]: options.mode } }),
          );
        }
        const summary = {
          stream: options.stream,
          created,
          shards: options.shards,
          mode: options.mode ?? null,
        };
        if (options.json) ctx.output.out(JSON.stringify(summary));
        else {
          ctx.output.out(
            `${created ? 'created' : 'exists'}: ${options.stream}${created ? ` (${options.shards} shard(s))` : ''}` +
              (options.mode ? `, tagged ${MODE_TAG}=${options.mode}` : ''),
          );
        }
      });
    });
}
