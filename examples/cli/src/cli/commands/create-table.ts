import { archiveTableName, createArchiveTable } from '@kinesis-archive/archive';
import { Command, Option } from 'commander';
import { type CommandContext, type CommonOptions, withClients, withCommonOptions } from '../common.js';
import { UsageError } from '../errors.js';
import { parseMode } from '../parse.js';

interface CreateTableOptions extends CommonOptions {
  table?: string;
  stream?: string;
  mode: 'ALL' | 'LATEST';
  ttl: boolean;
}

/** `kinesis-archive create-table`: creates an archive table (idempotent). */
export function createTableCommand(ctx: CommandContext): Command {
  return withCommonOptions(
    new Command('create-table')
      .description(
        'create an archive table (on demand, TTL on expireAfter); does nothing if it already exists',
      )
      .addOption(new Option('--table <name>', 'table name (default: <stream>-archive-<MODE>)'))
      .addOption(new Option('--stream <name>', 'source stream, to name the table conventionally'))
      .addOption(new Option('--mode <mode>', 'ALL or LATEST').argParser(parseMode).makeOptionMandatory())
      .addOption(new Option('--no-ttl', 'do not enable TTL on expireAfter')),
  )
    .addHelpText(
      'after',
      '\nExample:\n  kinesis-archive create-table --stream orders --mode LATEST --endpoint http://127.0.0.1:8000',
    )
    .action(async (options: CreateTableOptions) => {
      const tableName =
        options.table ?? (options.stream ? archiveTableName(options.stream, options.mode) : undefined);
      if (!tableName) throw new UsageError('give --table or --stream');
      await withClients(ctx, options, async ({ dynamodb }) => {
        const result = await createArchiveTable(dynamodb, {
          tableName,
          mode: options.mode,
          ttl: options.ttl,
        });
        if (options.json) ctx.output.out(JSON.stringify({ ...result, mode: options.mode }));
        else
          ctx.output.out(`${result.created ? 'created' : 'exists'}: ${result.tableName} (${options.mode})`);
      });
    });
}
