import { readFile, rename, writeFile } from 'node:fs/promises';
import { type ArchiveMode, ArchiveReader } from '@kinesis-archive/archive';
import { describeError } from '@kinesis-archive/core';
import { FileFailureJournal, type ReplayCheckpoint, replay } from '@kinesis-archive/replay';
import { Command, Option } from 'commander';
import { type CommandContext, type CommonOptions, withClients, withCommonOptions } from '../common.js';
import { UsageError } from '../errors.js';
import { parseDate, parseInteger, parseMode } from '../parse.js';
import { ProgressBar } from '../progress.js';
import { describeStream } from '../streams.js';
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
  checkpoint?: string;
  journal?: string;
  retryFailed?: boolean;
  segments?: number;
  includeTombstones?: boolean;
  limit?: number;
}

/** A checkpoint in a file, written whole or not at all (a temporary file renamed over it). */
function fileCheckpoint(path: string) {
  return {
    load: async (): Promise<ReplayCheckpoint | undefined> => {
      try {
        return JSON.parse(await readFile(path, 'utf8')) as ReplayCheckpoint;
      } catch (error) {
        if ((error as { code?: string }).code === 'ENOENT') return undefined;
        throw new UsageError(`--checkpoint ${path}: not a checkpoint file (${describeError(error)})`);
      }
    },
    save: async (state: ReplayCheckpoint): Promise<void> => {
      await writeFile(`${path}.tmp`, JSON.stringify(state));
      await rename(`${path}.tmp`, path);
    },
  };
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
      .addOption(new Option('--tombstones', 'with --as-of: a record with empty data deletes its key'))
      .addOption(
        new Option(
          '--checkpoint <file>',
          'save the cursors here as the replay goes; run the same command again to resume where it stopped',
        ),
      )
      .addOption(
        new Option(
          '--journal <file>',
          'keep records that fail for good here, with their payloads (JSON lines); default: in the checkpoint, bounded',
        ),
      )
      .addOption(
        new Option('--retry-failed', 'first send the records of the --journal (or checkpoint) again'),
      )
      .addOption(
        new Option('--segments <n>', 'scan the archive in n parallel segments (default 1)').argParser((v) =>
          parseInteger('--segments', v, 1, 1_000_000),
        ),
      )
      .addOption(new Option('--include-tombstones', 'replay deletions too, as records with empty data'))
      .addOption(
        new Option('--limit <n>', 'replay at most n records in this run').argParser((v) =>
          parseInteger('--limit', v, 1),
        ),
      ),
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
      if (options.segments && (options.key || options.asOf)) {
        throw new UsageError('--segments splits a scan: it does not go with --key or --as-of');
      }
      if (options.includeTombstones && options.asOf) {
        throw new UsageError('--include-tombstones does not go with --as-of (see --tombstones)');
      }
      if (options.retryFailed && !options.journal && !options.checkpoint) {
        throw new UsageError('--retry-failed needs the --journal (or --checkpoint) of the earlier run');
      }
      await withClients(ctx, options, async ({ dynamodb, kinesis }) => {
        const { mode, table } = await archiveModeOf(dynamodb, options.table, options.mode);
        if (!options.dryRun) await describeStream(kinesis, options.stream);
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
          ...(options.includeTombstones ? { includeTombstones: true } : {}),
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
          ...(options.segments && options.segments > 1 ? { totalSegments: options.segments } : {}),
          ...(options.checkpoint ? { checkpoint: fileCheckpoint(options.checkpoint) } : {}),
          ...(options.journal ? { journal: new FileFailureJournal(options.journal) } : {}),
          ...(options.retryFailed ? { retryFailed: true } : {}),
          ...(options.limit ? { limit: options.limit } : {}),
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
            error: `${f.error.code}: ${f.error.message}`,
          })),
          unsent: result.unsent.length,
          resent: result.resent,
          retriedFromJournal: result.retriedFromJournal,
          stoppedBy: result.stoppedBy ? describeError(result.stoppedBy) : undefined,
          done: Object.values(result.cursors).every((c) => c.done),
          aborted: result.aborted,
          elapsedMs: result.elapsedMs,
        };
        if (options.json) ctx.output.out(JSON.stringify(summary));
        else {
          ctx.output.out(
            `${options.dryRun ? 'would replay' : 'replayed'} ${options.dryRun ? result.read : result.sent} of ${result.read} records ` +
              `into ${options.stream} as ${result.kinesisRecords} Kinesis records in ${(result.elapsedMs / 1000).toFixed(1)} s` +
              (result.failed.length ? `; ${result.failed.length} FAILED (in the journal)` : '') +
              (result.unsent.length ? `; ${result.unsent.length} not sent` : '') +
              (result.aborted ? ' (aborted)' : ''),
          );
          if (result.stoppedBy) ctx.output.err(`stopped: ${describeError(result.stoppedBy)}`);
          if (!summary.done && options.checkpoint && !options.dryRun) {
            ctx.output.err(`not done: run the same command again to resume from ${options.checkpoint}`);
          }
          for (const f of summary.failures)
            ctx.output.err(`failed: ${f.partitionKey} ${f.sequenceNumber}: ${f.error}`);
        }
        if (!result.ok) ctx.exitCode = 1;
      });
    });
}
