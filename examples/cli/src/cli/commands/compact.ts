import { readFile, rename, writeFile } from 'node:fs/promises';
import { ArchiveReader, ArchiveWriter, type CompactCheckpoint, compact } from '@kinesis-archive/archive';
import { Command, Option } from 'commander';
import { type CommandContext, type CommonOptions, withClients, withCommonOptions } from '../common.js';
import { UsageError } from '../errors.js';
import { parseDate, parseInteger } from '../parse.js';
import { archiveModeOf } from '../tables.js';

interface CompactCliOptions extends CommonOptions {
  table: string;
  toTable: string;
  asOf?: Date;
  tombstones?: boolean;
  segments: number;
  checkpoint?: string;
}

/** A checkpoint kept in a file, replaced whole on every save (a crash never leaves half of one). */
function fileCheckpoint(path: string) {
  return {
    async load(): Promise<CompactCheckpoint | undefined> {
      try {
        return JSON.parse(await readFile(path, 'utf8')) as CompactCheckpoint;
      } catch (error) {
        if ((error as { code?: string }).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async save(checkpoint: CompactCheckpoint): Promise<void> {
      await writeFile(`${path}.tmp`, JSON.stringify(checkpoint));
      await rename(`${path}.tmp`, path);
    },
  };
}

/** `kinesis-archive compact`: an ALL archive into a LATEST one (offline log compaction). */
export function compactCommand(ctx: CommandContext): Command {
  return withCommonOptions(
    new Command('compact')
      .description(
        'turn an ALL archive into a LATEST one (the newest record of each key, or the state as of a time); resumable',
      )
      .addOption(new Option('--table <name>', 'the ALL archive table').makeOptionMandatory())
      .addOption(
        new Option(
          '--to-table <name>',
          'the LATEST archive table written (create it first)',
        ).makeOptionMandatory(),
      )
      .addOption(
        new Option('--as-of <iso>', 'the state at that time instead of the newest records').argParser((v) =>
          parseDate('--as-of', v),
        ),
      )
      .addOption(
        new Option(
          '--tombstones',
          'empty records delete their key (in the source, and as markers in the target)',
        ),
      )
      .addOption(
        new Option('--segments <n>', 'parallel-scan segments worked on at once (default 4)')
          .argParser((v) => parseInteger('--segments', v, 1, 1000))
          .default(4),
      )
      .addOption(
        new Option('--checkpoint <file>', 'keep progress in this file: run the same command again to resume'),
      ),
  )
    .addHelpText(
      'after',
      '\nExample:\n  kinesis-archive compact --table orders-archive-ALL --to-table orders-archive-LATEST --checkpoint compact.json',
    )
    .action(async (options: CompactCliOptions) => {
      await withClients(ctx, options, async ({ dynamodb }) => {
        const [source, target] = await Promise.all([
          archiveModeOf(dynamodb, options.table, undefined),
          archiveModeOf(dynamodb, options.toTable, undefined),
        ]);
        if (source.mode !== 'ALL')
          throw new UsageError(`--table must be an ALL archive: ${options.table} is LATEST`);
        if (target.mode !== 'LATEST') {
          throw new UsageError(`--to-table must be a LATEST archive: ${options.toTable} is ALL`);
        }
        const started = Date.now();
        const stats = await compact({
          source: new ArchiveReader({ dynamodb, tableName: options.table, mode: 'ALL' }),
          target: new ArchiveWriter({
            dynamodb,
            tableName: options.toTable,
            mode: 'LATEST',
            ...(options.tombstones ? { tombstones: true } : {}),
          }),
          totalSegments: options.segments,
          ...(options.asOf ? { asOf: options.asOf } : {}),
          tombstones: options.tombstones ?? false,
          ...(options.checkpoint ? { checkpoint: fileCheckpoint(options.checkpoint) } : {}),
        });
        const summary = {
          ...stats,
          from: options.table,
          to: options.toTable,
          elapsedMs: Date.now() - started,
        };
        if (options.json) ctx.output.out(JSON.stringify(summary));
        else {
          ctx.output.out(
            `compacted ${stats.keys} keys of ${options.table} into ${options.toTable}: ${stats.written} written, ` +
              `${stats.skippedStale} already there${options.asOf ? `, ${stats.absent} absent at that time` : ''}` +
              (stats.quarantined ? `, ${stats.quarantined} quarantined` : ''),
          );
        }
      });
    });
}
