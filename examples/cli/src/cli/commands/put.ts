import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { describeError } from '@kinesis-archive/core';
import { KinesisWriter } from '@kinesis-archive/replay';
import { Command, Option } from 'commander';
import { type CommandContext, type CommonOptions, withClients, withCommonOptions } from '../common.js';
import { UsageError } from '../errors.js';
import { describeStream } from '../streams.js';

interface PutOptions extends CommonOptions {
  stream: string;
  file?: string;
  format: 'json' | 'lines';
  keyField?: string;
  key?: string;
}

/** A line that could not be put, and why. */
interface LineFailure {
  line: number;
  reason: string;
}

/** The value at a dotted path of a JSON value, as a partition key (strings as they are, numbers as text). */
function fieldOf(value: unknown, path: string): string | undefined {
  let v: unknown = value;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return undefined;
}

/**
 * A key expression: `{n}` is the line number (from 1), `{line}` the line, `{a.b}` a field of a JSON line; any
 * other text is kept. Returns `undefined` when a field is missing.
 */
export function expandKey(template: string, n: number, line: string, json: unknown): string | undefined {
  let missing = false;
  const key = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    if (name === 'n') return String(n);
    if (name === 'line') return line;
    const v = json === undefined ? undefined : fieldOf(json, name);
    if (v === undefined) missing = true;
    return v ?? '';
  });
  return missing ? undefined : key;
}

/** `kinesis-archive put`: puts JSON lines or raw lines (stdin or a file) into a stream, batched, retried. */
export function putCommand(ctx: CommandContext): Command {
  return withCommonOptions(
    new Command('put')
      .description(
        'put records into a stream, one per line of stdin or --file: JSON lines (the key from a field) or raw lines; ' +
          'batched PutRecords with retries; every line that cannot be put is reported',
      )
      .addOption(new Option('--stream <name>', 'target stream').makeOptionMandatory())
      .addOption(new Option('--file <path>', 'read this file (default: stdin)'))
      .addOption(
        new Option('--format <format>', 'json: each line is a JSON value; lines: each line is sent as it is')
          .choices(['json', 'lines'])
          .default('json'),
      )
      .addOption(
        new Option('--key-field <path>', 'JSON lines: the field holding the partition key (a.b for nested)'),
      )
      .addOption(
        new Option(
          '--key <expression>',
          'the partition key: {n} line number, {line} the line, {field} a JSON field',
        ),
      ),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  printf \'{"id":"order-1","total":3}\\n\' | kinesis-archive put --stream orders --key-field id\n' +
        '  kinesis-archive put --stream logs --file app.log --format lines --key "host-1"',
    )
    .action(async (options: PutOptions) => {
      if ((options.keyField === undefined) === (options.key === undefined)) {
        throw new UsageError('give one of --key-field (JSON lines) or --key (an expression)');
      }
      if (options.keyField !== undefined && options.format !== 'json') {
        throw new UsageError('--key-field reads a JSON field: it goes with --format json');
      }
      await withClients(ctx, options, async ({ kinesis }) => {
        await describeStream(kinesis, options.stream);
        const failures: LineFailure[] = [];
        const writer = new KinesisWriter<{ partitionKey: string; data: string; line: number }>({
          kinesis,
          streamName: options.stream,
          signal: ctx.signal,
          onFailed: (record, error) => failures.push({ line: record.line, reason: describeError(error) }),
        });
        const input = options.file ? createReadStream(options.file) : process.stdin;
        const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
        let read = 0;
        try {
          for await (const line of lines) {
            if (ctx.signal.aborted) break;
            read++;
            if (line.trim() === '') {
              failures.push({ line: read, reason: 'empty line' });
              continue;
            }
            let json: unknown;
            if (options.format === 'json') {
              try {
                json = JSON.parse(line);
              } catch (error) {
                failures.push({ line: read, reason: `not JSON: ${describeError(error)}` });
                continue;
              }
            }
            const partitionKey =
              options.keyField !== undefined
                ? fieldOf(json, options.keyField)
                : expandKey(options.key!, read, line, json);
            if (partitionKey === undefined || partitionKey === '') {
              failures.push({ line: read, reason: `no partition key (${options.keyField ?? options.key})` });
              continue;
            }
            await writer.put({ partitionKey, data: line, line: read });
          }
        } catch (error) {
          if (!ctx.signal.aborted) throw error;
        } finally {
          lines.close();
        }
        const stats = await writer.close().catch(() => writer.stats);
        failures.sort((a, b) => a.line - b.line);
        for (const f of failures) ctx.output.err(`line ${f.line}: ${f.reason}`);
        const summary = {
          stream: options.stream,
          read,
          sent: stats.sent,
          failed: failures.length,
          unsent: stats.unsent.length,
          retries: stats.retries,
          ...(stats.stoppedBy ? { stoppedBy: describeError(stats.stoppedBy) } : {}),
        };
        if (options.json) ctx.output.out(JSON.stringify(summary));
        else {
          ctx.output.out(
            `put ${stats.sent} of ${read} line(s) into ${options.stream}` +
              (failures.length ? `; ${failures.length} failed (listed above)` : '') +
              (stats.unsent.length ? `; ${stats.unsent.length} not sent` : ''),
          );
        }
        if (failures.length > 0 || stats.unsent.length > 0) ctx.exitCode = 1;
      });
    });
}
