import type { ArchiveMode } from '@kinesis-archive/archive';
import { archiveTableName, createArchiveTable, loadArchiveConfig, MODE_TAG } from '@kinesis-archive/archive';
import { createHandler } from '@kinesis-archive/example-lambda-archiver';
import { Command, Option } from 'commander';
import type { StartingPosition } from '../../event-source/types.js';
import { runKinesisEventSource } from '../../event-source-runner.js';
import { type CommandContext, type CommonOptions, withClients, withCommonOptions } from '../common.js';
import { UsageError } from '../errors.js';
import { parseInteger, parseMode, parseStartingPosition } from '../parse.js';
import { ProgressBar } from '../progress.js';
import { describeStream } from '../streams.js';
import { describeTable } from '../tables.js';

interface ArchiveOptions extends CommonOptions {
  stream: string;
  table?: string;
  mode?: ArchiveMode;
  ttlSeconds?: number;
  batchSize: number;
  from: StartingPosition;
  untilIdle?: boolean;
  createTable?: boolean;
  maxRetries: number;
}

/** `kinesis-archive archive`: polls a stream and invokes the example archiver handler like Lambda would. */
export function archiveCommand(ctx: CommandContext): Command {
  return withCommonOptions(
    new Command('archive')
      .description(
        'read a stream and invoke the archiver Lambda handler with Lambda-shaped events (batch size, ' +
          'batchItemFailures and retries as the event source mapping does) until Ctrl-C or --until-idle',
      )
      .addOption(new Option('--stream <name>', 'source stream').makeOptionMandatory())
      .addOption(
        new Option('--mode <mode>', 'ALL or LATEST (default: the stream tag StreamArchiveMode)').argParser(
          parseMode,
        ),
      )
      .addOption(new Option('--table <name>', 'archive table (default: <stream>-archive-<MODE>)'))
      .addOption(
        new Option('--ttl-seconds <n>', 'expire archived records after n seconds (0 = never)').argParser(
          (v) => parseInteger('--ttl-seconds', v, 0),
        ),
      )
      .addOption(
        new Option('--batch-size <n>', 'most records per invocation (1..10000)')
          .argParser((v) => parseInteger('--batch-size', v, 1, 10_000))
          .default(100),
      )
      .addOption(
        new Option('--from <position>', 'trim-horizon, latest or an ISO timestamp')
          .argParser(parseStartingPosition)
          .default('TRIM_HORIZON', 'trim-horizon'),
      )
      .addOption(new Option('--until-idle', 'stop once every shard is read to its tip'))
      .addOption(new Option('--create-table', 'create the archive table first if it does not exist'))
      .addOption(
        new Option('--max-retries <n>', 'retries of a failing batch before giving up')
          .argParser((v) => parseInteger('--max-retries', v, 0, 1000))
          .default(5),
      ),
  )
    .addHelpText(
      'after',
      '\nExample:\n  kinesis-archive archive --stream orders --mode ALL --create-table --until-idle --json \\\n' +
        '    --kinesis-endpoint http://127.0.0.1:4568 --dynamodb-endpoint http://127.0.0.1:8000',
    )
    .action(async (options: ArchiveOptions) => {
      ctx.runsUntilStopped = !options.untilIdle;
      await withClients(ctx, options, async ({ kinesis, dynamodb }) => {
        // everything checked before any work: the stream, the mode (flag or tag), the table
        await describeStream(kinesis, options.stream);
        const mode =
          options.mode ?? (await loadArchiveConfig(kinesis, options.stream, { cacheTtlMs: 0 })).mode;
        if (!mode) {
          throw new UsageError(
            `stream ${JSON.stringify(options.stream)} has no ${MODE_TAG} tag, so the archive mode is unknown: pass --mode ALL or --mode LATEST, or tag the stream (aws kinesis add-tags-to-stream --stream-name ${options.stream} --tags ${MODE_TAG}=all)`,
          );
        }
        const table = options.table ?? archiveTableName(options.stream, mode);
        if (options.createTable) {
          await createArchiveTable(dynamodb, { tableName: table, mode });
        } else {
          await describeTable(
            dynamodb,
            table,
            `add --create-table, or create it: kinesis-archive create-table --table ${table} --mode ${mode}`,
          );
        }
        const env: Record<string, string | undefined> = {
          ARCHIVE_TABLE: table,
          ARCHIVE_MODE: mode,
          ARCHIVE_TTL_SECONDS: options.ttlSeconds === undefined ? undefined : String(options.ttlSeconds),
        };
        // metrics are for CloudWatch, not a terminal; quarantined records are reported on stderr
        const handler = createHandler({
          dynamodb,
          kinesis,
          env,
          metrics: false,
          logger: { warn: (line) => ctx.output.err(`\n${line}\n`) },
        });
        const bar = new ProgressBar(ctx.output, 'archive');
        const started = Date.now();
        const stats = await runKinesisEventSource({
          kinesis,
          streamName: options.stream,
          handler,
          batchSize: options.batchSize,
          startingPosition: options.from,
          maxRetries: options.maxRetries,
          signal: ctx.signal,
          ...(options.untilIdle ? { stopWhenIdle: true } : {}),
          onBatch: (report) => {
            const done = report.totalCompleted;
            bar.update(done, undefined, done / Math.max(0.001, (Date.now() - started) / 1000));
            if (report.outcome !== 'success') {
              ctx.output.err(
                `\nshard ${report.shardId}: batch at ${report.firstSequenceNumber} ${report.outcome}` +
                  (report.retryFrom ? `, retrying from ${report.retryFrom}` : ''),
              );
            }
          },
        });
        // Ctrl-C / SIGTERM stopped the run: with --until-idle that means records may be left unarchived (exit 130).
        const aborted = ctx.signal.aborted;
        bar.done();
        const summary = {
          stream: options.stream,
          table,
          mode,
          records: stats.records,
          invocations: stats.invocations,
          retries: stats.retries,
          partialFailures: stats.partialFailures,
          errors: stats.errors,
          shards: stats.shards,
          elapsedMs: stats.elapsedMs,
          aborted,
        };
        if (options.json) ctx.output.out(JSON.stringify(summary));
        else {
          ctx.output.out(
            `archived ${stats.records} records from ${options.stream} in ${stats.invocations} invocations ` +
              `(${stats.retries} retries) in ${(stats.elapsedMs / 1000).toFixed(1)} s` +
              (aborted ? ' (interrupted)' : ''),
          );
        }
      });
    });
}
