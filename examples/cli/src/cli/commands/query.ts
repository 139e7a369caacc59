import { type ArchiveMode, ArchiveReader } from '@kinesis-archive/archive';
import { Command, Option } from 'commander';
import { type CommandContext, type CommonOptions, withClients, withCommonOptions } from '../common.js';
import { recordJson, recordLine } from '../output.js';
import { parseDate, parseInteger, parseMode } from '../parse.js';
import { archiveModeOf } from '../tables.js';

interface QueryOptions extends CommonOptions {
  table: string;
  key: string;
  mode?: ArchiveMode;
  fromSequence?: string;
  toSequence?: string;
  from?: Date;
  to?: Date;
  limit?: number;
  order: 'asc' | 'desc';
}

/** `kinesis-archive query`: one key's history from an archive table. */
export function queryCommand(ctx: CommandContext): Command {
  return withCommonOptions(
    new Command('query')
      .description("print one partition key's archived records in order (LATEST tables: its latest record)")
      .addOption(new Option('--table <name>', 'archive table').makeOptionMandatory())
      .addOption(new Option('--key <partitionKey>', 'the partition key').makeOptionMandatory())
      .addOption(
        new Option('--mode <mode>', 'ALL or LATEST (default: from the table schema)').argParser(parseMode),
      )
      .addOption(new Option('--from-sequence <n>', 'first sequence number (inclusive)'))
      .addOption(new Option('--to-sequence <n>', 'last sequence number (inclusive)'))
      .addOption(
        new Option('--from <iso>', 'records that arrived at or after').argParser((v) =>
          parseDate('--from', v),
        ),
      )
      .addOption(
        new Option('--to <iso>', 'records that arrived before').argParser((v) => parseDate('--to', v)),
      )
      .addOption(new Option('--limit <n>', 'most records').argParser((v) => parseInteger('--limit', v)))
      .addOption(new Option('--order <order>', 'asc or desc').choices(['asc', 'desc']).default('asc')),
  )
    .addHelpText(
      'after',
      '\nExample:\n  kinesis-archive query --table orders-archive-ALL --key order-17 --json',
    )
    .action(async (options: QueryOptions) => {
      await withClients(ctx, options, async ({ dynamodb }) => {
        const { mode } = await archiveModeOf(dynamodb, options.table, options.mode);
        const reader = new ArchiveReader({ dynamodb, tableName: options.table, mode });
        const records = reader.query({
          partitionKey: options.key,
          ...(options.fromSequence ? { fromSequence: options.fromSequence } : {}),
          ...(options.toSequence ? { toSequence: options.toSequence } : {}),
          ...(options.from ? { from: options.from } : {}),
          ...(options.to ? { to: options.to } : {}),
          ...(options.limit ? { limit: options.limit } : {}),
          order: options.order,
        });
        const out: Record<string, unknown>[] = [];
        let count = 0;
        for await (const record of records) {
          count++;
          if (options.json) out.push(recordJson(record));
          else ctx.output.out(recordLine(record));
        }
        if (options.json) ctx.output.out(JSON.stringify(out));
        if (count === 0) {
          ctx.output.err(`no records for key ${JSON.stringify(options.key)} in ${options.table}`);
        }
      });
    });
}
