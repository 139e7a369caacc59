import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import {
  type BackoffOptions,
  type BatchItemFailure,
  isSequenceNumber,
  KinesisArchiveError,
  type KinesisBatchResponse,
  type KinesisEventRecord,
  type KinesisStreamEvent,
  shardIdOfEvent,
} from '@kinesis-archive/core';
import { type ArchiveConfig, loadArchiveConfig } from './config-from-tags.js';
import { ArchiveConfigError } from './errors.js';
import { archiveTableName } from './table.js';
import type { TombstoneOptions } from './tombstones.js';
import type { ArchiveMode, WriteFailure } from './types.js';
import { ArchiveWriter } from './writer.js';

/** Options of {@link createArchiveHandler}. */
export interface ArchiveHandlerOptions {
  /** Your configured DynamoDB client. */
  dynamodb: DynamoDBClient;
  /** A Kinesis client to read each stream's tags (`StreamArchiveMode`, `ArchiveTTL`). Without it, `mode` is needed. */
  kinesis?: KinesisClient;
  /** Mode for streams whose tags do not set one (tags win). */
  mode?: ArchiveMode;
  /** TTL for streams whose tags do not set one (tags win). */
  ttlSeconds?: number;
  /** Table of a stream: a fixed name, or a function. Default `<stream>-archive-<MODE>` ({@link archiveTableName}). */
  tableName?: string | ((streamName: string, mode: ArchiveMode) => string);
  /** LATEST tombstones (see `ArchiveWriter`). */
  tombstones?: boolean | TombstoneOptions;
  /** Most DynamoDB requests in flight per stream. Default 8. */
  concurrency?: number;
  /** Largest record archived. Default 1 MiB. */
  maxRecordBytes?: number;
  /** Backoff of the writes. */
  retry?: BackoffOptions;
  /** How long stream tags are cached (ms). Default 5 minutes. */
  configCacheTtlMs?: number;
}

/** Thrown by the handler when a failed record has no sequence number to report (Lambda then retries the batch). */
export class UnreportableFailureError extends KinesisArchiveError {
  constructor(failure: WriteFailure) {
    super(
      'UNREPORTABLE_FAILURE',
      `record #${failure.index} could not be archived and has no sequence number to report: ${failure.error.message}`,
      { cause: failure.error, details: { index: failure.index } },
    );
  }
}

/** The stream name of a Kinesis stream ARN (`arn:aws:kinesis:<region>:<account>:stream/<name>`). */
export function streamNameOfArn(arn: string): string {
  const i = arn.indexOf(':stream/');
  return i >= 0 ? arn.slice(i + ':stream/'.length) : arn;
}

/**
 * Builds a Kinesis-triggered Lambda handler that archives each event and returns a partial batch response
 * (enable `ReportBatchItemFailures` on the event source mapping). For each shard, the sequence number of the first
 * record that could not be archived (for a KPL sub-record, its aggregate's) is reported, so Lambda retries from
 * there and nothing is skipped. Events may mix streams: each goes to its own table, with its own configuration.
 *
 * @example
 * ```ts
 * export const handler = createArchiveHandler({ dynamodb: new DynamoDBClient({}), kinesis: new KinesisClient({}) });
 * ```
 */
export function createArchiveHandler(
  options: ArchiveHandlerOptions,
): (event: KinesisStreamEvent) => Promise<KinesisBatchResponse> {
  const writers = new Map<string, ArchiveWriter>();

  const configOf = async (arn: string): Promise<{ mode: ArchiveMode; ttlSeconds: number | undefined }> => {
    let tags: ArchiveConfig = { mode: undefined, ttlSeconds: undefined };
    if (options.kinesis) {
      tags = await loadArchiveConfig(
        options.kinesis,
        arn,
        options.configCacheTtlMs === undefined ? {} : { cacheTtlMs: options.configCacheTtlMs },
      );
    }
    const mode = tags.mode ?? options.mode;
    if (!mode)
      throw new ArchiveConfigError(`no archive mode for ${arn}: no StreamArchiveMode tag and no mode option`);
    return { mode, ttlSeconds: tags.ttlSeconds ?? options.ttlSeconds };
  };

  const writerOf = (arn: string, mode: ArchiveMode, ttlSeconds: number | undefined): ArchiveWriter => {
    const stream = streamNameOfArn(arn);
    const name = options.tableName;
    const tableName =
      typeof name === 'function' ? name(stream, mode) : (name ?? archiveTableName(stream, mode));
    const key = `${tableName}\u0001${mode}\u0001${ttlSeconds ?? ''}`;
    let writer = writers.get(key);
    if (!writer) {
      writer = new ArchiveWriter({
        dynamodb: options.dynamodb,
        tableName,
        mode,
        ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
        ...(options.tombstones !== undefined && mode === 'LATEST' ? { tombstones: options.tombstones } : {}),
        ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
        ...(options.maxRecordBytes !== undefined ? { maxRecordBytes: options.maxRecordBytes } : {}),
        ...(options.retry !== undefined ? { retry: options.retry } : {}),
      });
      writers.set(key, writer);
    }
    return writer;
  };

  return async (event) => {
    const records: KinesisEventRecord[] = Array.isArray(event?.Records) ? event.Records : [];
    const byStream = new Map<string, number[]>();
    records.forEach((record, i) => {
      const arn = typeof record?.eventSourceARN === 'string' ? record.eventSourceARN : '';
      const list = byStream.get(arn) ?? [];
      list.push(i);
      byStream.set(arn, list);
    });
    const failures: WriteFailure[] = [];
    await Promise.all(
      [...byStream].map(async ([arn, indexes]) => {
        const batch = indexes.map((i) => records[i]!);
        try {
          const { mode, ttlSeconds } = await configOf(arn);
          const result = await writerOf(arn, mode, ttlSeconds).write(batch);
          for (const f of result.failed) failures.push({ ...f, index: indexes[f.index]! });
        } catch (error) {
          const typed =
            error instanceof KinesisArchiveError
              ? error
              : new ArchiveConfigError(`cannot archive ${arn}: ${String(error)}`, { streamArn: arn });
          indexes.forEach((index, j) => {
            const seq = batch[j]?.kinesis?.sequenceNumber;
            failures.push({ sequenceNumber: typeof seq === 'string' ? seq : undefined, index, error: typed });
          });
        }
      }),
    );
    return { batchItemFailures: firstFailurePerShard(records, failures) };
  };
}

function firstFailurePerShard(records: KinesisEventRecord[], failures: WriteFailure[]): BatchItemFailure[] {
  const first = new Map<string, WriteFailure>();
  for (const failure of failures.sort((a, b) => a.index - b.index)) {
    const record = records[failure.index];
    const shard = `${record?.eventSourceARN}\u0001${record && typeof record.eventID === 'string' ? shardIdOfEvent(record) : ''}`;
    if (!first.has(shard)) first.set(shard, failure);
  }
  return [...first.values()].map((failure) => {
    let seq = failure.sequenceNumber;
    if (!isSequenceNumber(seq)) {
      const id = records[failure.index]?.eventID;
      const fromId = typeof id === 'string' ? id.slice(id.lastIndexOf(':') + 1) : undefined;
      if (!isSequenceNumber(fromId)) throw new UnreportableFailureError(failure);
      seq = fromId;
    }
    return { itemIdentifier: seq };
  });
}
