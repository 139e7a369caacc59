import { ArchiveReader, ArchiveWriter } from '@kinesis-archive/archive';
import { describeError } from '@kinesis-archive/core';
import { Command, Option } from 'commander';
import { type CommandContext, type CommonOptions, withClients, withCommonOptions } from '../common.js';
import { textOf } from '../output.js';
import { parseInteger } from '../parse.js';
import { archiveModeOf } from '../tables.js';

interface QuarantineCliOptions extends CommonOptions {
  table: string;
  quarantineTable?: string;
  redrive?: boolean;
  maxRecordBytes?: number;
  limit?: number;
}

/** `kinesis-archive quarantine`: lists, or re-drives, the records an archive could never archive. */
export function quarantineCommand(ctx: CommandContext): Command {
  return withCommonOptions(
    new Command('quarantine')
      .description(
        'list the records an archive quarantined (malformed, oversized, reserved keys), or archive them again',
      )
      .addOption(new Option('--table <name>', 'archive table').makeOptionMandatory())
      .addOption(new Option('--quarantine-table <name>', 'the quarantine table, when it has one of its own'))
      .addOption(new Option('--redrive', 'archive the quarantined records again; remove those that succeed'))
      .addOption(
        new Option(
          '--max-record-bytes <n>',
          'with --redrive: largest record accepted (default 1 MiB)',
        ).argParser((v) => parseInteger('--max-record-bytes', v, 1, 10 * 1_048_576)),
      )
      .addOption(new Option('--limit <n>', 'most records').argParser((v) => parseInteger('--limit', v))),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  kinesis-archive quarantine --table orders-archive-ALL\n' +
        '  kinesis-archive quarantine --table orders-archive-ALL --redrive --max-record-bytes 10485760',
    )
    .action(async (options: QuarantineCliOptions) => {
      await withClients(ctx, options, async ({ dynamodb }) => {
        const { mode } = await archiveModeOf(dynamodb, options.table, undefined);
        const quarantine = options.quarantineTable ? { tableName: options.quarantineTable } : undefined;
        if (options.redrive) {
          const writer = new ArchiveWriter({
            dynamodb,
            tableName: options.table,
            mode,
            ...(quarantine ? { quarantine } : {}),
            ...(options.maxRecordBytes ? { maxRecordBytes: options.maxRecordBytes } : {}),
          });
          const result = await writer.redrive(options.limit ? { limit: options.limit } : {});
          const summary = {
            redriven: result.redriven,
            stillQuarantined: result.stillQuarantined,
            failed: result.failed.length,
            failures: result.failed.slice(0, 10).map((f) => describeError(f.error)),
          };
          if (options.json) ctx.output.out(JSON.stringify(summary));
          else {
            ctx.output.out(
              `re-drove ${result.redriven} record(s); ${result.stillQuarantined} still quarantined` +
                (result.failed.length ? `; ${result.failed.length} FAILED (try again)` : ''),
            );
            for (const f of summary.failures) ctx.output.err(`failed: ${f}`);
          }
          if (result.failed.length > 0) ctx.exitCode = 1;
          return;
        }
        const reader = new ArchiveReader({
          dynamodb,
          tableName: options.table,
          mode,
          ...(quarantine ? { quarantine } : {}),
        });
        for await (const q of reader.quarantine(options.limit ? { limit: options.limit } : {})) {
          if (ctx.signal.aborted) break;
          const row = {
            id: q.id,
            error: q.error,
            partitionKey: q.partitionKey,
            sequenceNumber: q.sequenceNumber,
            subSequenceNumber: q.subSequenceNumber,
            shardId: q.shardId,
            eventSourceARN: q.eventSourceARN,
            payloadKind: q.payloadKind,
            bytes: q.data.byteLength,
            quarantinedAt: q.quarantinedAt.toISOString(),
          };
          if (options.json)
            ctx.output.out(JSON.stringify({ ...row, data: Buffer.from(q.data).toString('base64') }));
          else {
            const text = textOf(q.data);
            ctx.output.out(
              `${row.quarantinedAt}  ${q.error.code}  ${q.partitionKey ?? '(no key)'}  ${q.sequenceNumber ?? '(no sequence number)'}` +
                `  ${row.bytes} bytes${text !== undefined && text.length <= 80 ? `  ${text}` : ''}`,
            );
          }
        }
      });
    });
}
