import { type ArchiveMode, ArchiveReader } from '@kinesis-archive/archive';
import { describeError } from '@kinesis-archive/core';
import { replay } from '@kinesis-archive/replay';
import { Command, Option } from 'commander';
import { type CommandContext, type CommonOptions, withClients, withCommonOptions } from '../common.js';
import { UsageError } from '../errors.js';
import { parseDate, parseInteger, parseMode } from '../parse.js';
import { ProgressBar } from '../progress.js';
import { archiveModeOf } from '../tables.js';

interface ReplayCliOptions extends CommonOptions {
  table: string;
  stream: string;
  mode?: ArchiveMode;
  key?: string;
  from?: Date;
  to?: Date;
  aggregate?: boolean;
  ordered: boolean;
  rate?: number;
  dryRun?: boolean;
  total?: number;
  asOf?: Date;
  tombstones?: boolean;
}

/** `kinesis-archive replay`: an archive (or one key of it) into a stream. */
export function replayCommand(ctx: CommandContext): Command {
  return withCommonOptions(
    new Command('replay')
      .description(
        'replay an archive table into a Kinesis stream, in order per key, with a progress bar on stderr',
      )
      .addOption(new Option('--table <name>', 'archive table').makeOptionMandatory())
      .addOption(new Option('--stream <name>', 'target stream').makeOptionMandatory())
      .addOption(
        new Option('--mode <mode>', 'ALL or LATEST (default: from the table schema)').argParser(parseMode),
      )
      .addOption(new Option('--key <partitionKey>', "replay only this key's history"))
      .addOption(
        new Option('--from <iso>', 'records that arrived at or after').argParser((v) =>
          parseDate('--from', v),
        ),
      )
      .addOption(
        new Option('--to <iso>', 'records that arrived before').argParser((v) => parseDate('--to', v)),
      )
      .addOption(new Option('--aggregate', 'pack records into KPL aggregates (consumers must deaggregate)'))
      .addOption(
        new Option('--no-ordered', 'do not hold back records behind an unacknowledged record of their key'),
      )
      .addOption(
        new Option('--rate <n>', 'records per second per shard (default 1000)').argParser((v) =>
          parseInteger('--rate', v),
        ),
      )
      .addOption(
        new Option(
          '--total <n>',
          "records expected, for the ETA (default: the table's item count)",
        ).argParser((v) => parseInteger('--total', v, 0)),
      )
      .addOption(new Option('--dry-run', 'read and count only; send nothing'))
      .addOption(
        new Option(
          '--as-of <iso>',
          'ALL tables: replay the state of every key at that time (its newest record that had arrived)',
        ).argParser((v) => parseDate('--as-of', v)),
      )
      .addOption(new Option('--tombstones', 'with --as-of: a record with empty data deletes its key')),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  kinesis-archive replay --table orders-archive-LATEST --stream orders-rebuild --aggregate\n' +
        '  kinesis-archive replay --table orders-archive-ALL --stream orders --key order-17 --dry-run --json',
    )
    .action(async (options: ReplayCliOptions) => {
      if (options.asOf && (options.from || options.to)) {
        throw new UsageError('--as-of is a point in time: it does not go with --from or --to');
      }
      if (options.tombstones && !options.asOf) throw new UsageError('--tombstones goes with --as-of');
      await withClients(options, async ({ dynamodb, kinesis }) => {
        const { mode, table } = await archiveModeOf(dynamodb, options.table, options.mode);
        if (options.asOf && mode !== 'ALL') {
          throw new UsageError(
            `--as-of needs an ALL table: ${options.table} is ${mode} (it keeps no history)`,
          );
        }
        const reader = new ArchiveReader({ dynamodb, tableName: options.table, mode });
        // as of a time: one record per key, the state then (an async iterable source)
        const source = options.asOf
          ? reader.asOf(options.asOf, {
              tombstones: options.tombstones ?? false,
              ...(options.key ? { partitionKey: options.key } : {}),
            })
          : reader;
        const total = options.total ?? (options.key || options.asOf ? undefined : table.ItemCount);
        const range = {
          ...(options.from ? { from: options.from } : {}),
          ...(options.to ? { to: options.to } : {}),
        };
        const bar = new ProgressBar(ctx.output, options.dryRun ? 'replay (dry run)' : 'replay');
        const result = await replay({
          source,
          kinesis,
          streamName: options.stream,
          ...(options.asOf
            ? {}
            : options.key
              ? { query: { partitionKey: options.key, ...range } }
              : { scan: range }),
          ordered: options.ordered,
          aggregate: options.aggregate ?? false,
          ...(options.rate ? { rateLimit: { recordsPerSecond: options.rate } } : {}),
          dryRun: options.dryRun ?? false,
          signal: ctx.signal,
          ...(total ? { total } : {}),
          progressIntervalMs: 250,
          onProgress: (p) => {
            const done = options.dryRun ? p.read : p.sent;
            bar.update(done, total, p.recordsPerSecond, p.eta);
          },
        });
        bar.done();
        const summary = {
          ok: result.ok,
          table: options.table,
          stream: options.stream,
          mode,
          dryRun: options.dryRun ?? false,
          read: result.read,
          sent: result.sent,
          kinesisRecords: result.kinesisRecords,
          retries: result.retries,
          failed: result.failed.length,
          failures: result.failed.slice(0, 10).map((f) => ({
            partitionKey: f.record.partitionKey,
            sequenceNumber: f.record.sequenceNumber,
            error: describeError(f.error),
          })),
          aborted: result.aborted,
          elapsedMs: result.elapsedMs,
        };
        if (options.json) ctx.output.out(JSON.stringify(summary));
        else {
          ctx.output.out(
            `${options.dryRun ? 'would replay' : 'replayed'} ${options.dryRun ? result.read : result.sent} of ${result.read} records ` +
              `into ${options.stream} as ${result.kinesisRecords} Kinesis records in ${(result.elapsedMs / 1000).toFixed(1)} s` +
              (result.failed.length ? `; ${result.failed.length} FAILED` : '') +
              (result.aborted ? ' (aborted)' : ''),
          );
          for (const f of summary.failures)
            ctx.output.err(`failed: ${f.partitionKey} ${f.sequenceNumber}: ${f.error}`);
        }
        if (!result.ok) ctx.exitCode = 1;
      });
    });
}
