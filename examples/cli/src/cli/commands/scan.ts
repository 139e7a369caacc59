import { type ArchiveMode, ArchiveReader } from '@kinesis-archive/archive';
import { Command, Option } from 'commander';
import { type CommandContext, type CommonOptions, withClients, withCommonOptions } from '../common.js';
import { UsageError } from '../errors.js';
import { recordJson, recordLine } from '../output.js';
import { parseDate, parseInteger, parseMode } from '../parse.js';
import { archiveModeOf } from '../tables.js';

interface ScanOptions extends CommonOptions {
  table: string;
  mode?: ArchiveMode;
  segment?: number;
  totalSegments?: number;
  from?: Date;
  to?: Date;
  limit?: number;
  asOf?: Date;
  tombstones?: boolean;
}

/** `kinesis-archive scan`: the whole archive (or one parallel-scan segment). */
export function scanCommand(ctx: CommandContext): Command {
  return withCommonOptions(
    new Command('scan')
      .description(
        'print every archived record (as JSON lines with --json), optionally one segment of a parallel scan',
      )
      .addOption(new Option('--table <name>', 'archive table').makeOptionMandatory())
      .addOption(
        new Option('--mode <mode>', 'ALL or LATEST (default: from the table schema)').argParser(parseMode),
      )
      .addOption(
        new Option('--segment <n>', "this worker's segment (0-based)").argParser((v) =>
          parseInteger('--segment', v, 0),
        ),
      )
      .addOption(
        new Option('--total-segments <n>', 'number of segments').argParser((v) =>
          parseInteger('--total-segments', v, 1, 1_000_000),
        ),
      )
      .addOption(
        new Option('--from <iso>', 'records that arrived at or after').argParser((v) =>
          parseDate('--from', v),
        ),
      )
      .addOption(
        new Option('--to <iso>', 'records that arrived before').argParser((v) => parseDate('--to', v)),
      )
      .addOption(
        new Option('--limit <n>', 'most records in all').argParser((v) => parseInteger('--limit', v)),
      )
      .addOption(
        new Option(
          '--as-of <iso>',
          'ALL tables: the state of every key at that time (its newest record that had arrived)',
        ).argParser((v) => parseDate('--as-of', v)),
      )
      .addOption(new Option('--tombstones', 'with --as-of: a record with empty data deletes its key')),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  kinesis-archive scan --table orders-archive-LATEST --limit 10\n' +
        '  kinesis-archive scan --table orders-archive-ALL --as-of 2026-11-24T09:00:00Z --tombstones --json',
    )
    .action(async (options: ScanOptions) => {
      if ((options.segment === undefined) !== (options.totalSegments === undefined)) {
        throw new UsageError('--segment and --total-segments go together');
      }
      if (
        options.segment !== undefined &&
        options.totalSegments !== undefined &&
        options.segment >= options.totalSegments
      ) {
        throw new UsageError('--segment must be less than --total-segments');
      }
      if (options.asOf && (options.from || options.to)) {
        throw new UsageError('--as-of is a point in time: it does not go with --from or --to');
      }
      if (options.tombstones && !options.asOf) throw new UsageError('--tombstones goes with --as-of');
      await withClients(ctx, options, async ({ dynamodb }) => {
        const { mode } = await archiveModeOf(dynamodb, options.table, options.mode);
        if (options.asOf && mode !== 'ALL') {
          throw new UsageError(
            `--as-of needs an ALL table: ${options.table} is ${mode} (it keeps no history)`,
          );
        }
        const reader = new ArchiveReader({ dynamodb, tableName: options.table, mode });
        const segment =
          options.segment !== undefined
            ? { segment: options.segment, totalSegments: options.totalSegments }
            : {};
        const records = options.asOf
          ? reader.asOf(options.asOf, {
              ...segment,
              tombstones: options.tombstones ?? false,
              ...(options.limit ? { limit: options.limit } : {}),
            })
          : reader.scan({
              ...(options.segment !== undefined
                ? { segment: options.segment, totalSegments: options.totalSegments }
                : {}),
              ...(options.from ? { from: options.from } : {}),
              ...(options.to ? { to: options.to } : {}),
              ...(options.limit ? { limit: options.limit } : {}),
            });
        for await (const record of records) {
          if (ctx.signal.aborted) break;
          ctx.output.out(options.json ? JSON.stringify(recordJson(record)) : recordLine(record));
        }
      });
    });
}
