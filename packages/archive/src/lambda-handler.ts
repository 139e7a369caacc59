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
import { type ArchiveMetricsOptions, embeddedMetrics } from './metrics.js';
import type { QuarantineOptions } from './quarantine.js';
import { isPermanentFailure, rawPayloadOf } from './quarantine-codec.js';
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
  /**
   * Where records that can never be archived go (see `ArchiveWriterOptions.quarantine`): default `true`, the
   * archive table. They are logged once and not reported for retry, so the shard moves on. With a quarantine table
   * of its own (`{ tableName }`), the records of a stream whose configuration is invalid (a bad tag) are
   * quarantined there too; without one they are reported for retry, since there is no table to keep them in.
   */
  quarantine?: boolean | QuarantineOptions;
  /** Where the handler logs what it quarantined (one JSON line per record). Default `console`. */
  logger?: { warn(message: string): void };
  /**
   * CloudWatch metrics, as Embedded Metric Format lines: per invocation and stream, the records written, stale,
   * compacted, tombstoned, quarantined and failed, and the age of the oldest record, with the stream name and the
   * mode as dimensions. Default on, namespace `KinesisArchive`, to stdout; `false` turns them off.
   */
  metrics?: boolean | ArchiveMetricsOptions;
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

/**
 * A stream's configuration (its tags) could not be read for a reason that may pass (throttling, network): the
 * batch is reported for retry. Code `CONFIG_UNAVAILABLE`.
 */
export class StreamConfigUnavailableError extends KinesisArchiveError {
  constructor(streamArn: string, cause: unknown) {
    super('CONFIG_UNAVAILABLE', `cannot read the archive configuration of ${streamArn}: ${String(cause)}`, {
      cause,
      details: { streamArn },
    });
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
        ...(options.quarantine !== undefined ? { quarantine: options.quarantine } : {}),
      });
      writers.set(key, writer);
    }
    return writer;
  };

  const logger = options.logger ?? console;
  const logQuarantined = (arn: string, table: string, failure: WriteFailure, record?: KinesisEventRecord) => {
    logger.warn(
      JSON.stringify({
        level: 'WARN',
        message: 'record quarantined: it can never be archived, so it is kept apart and not retried',
        code: failure.error.code,
        reason: failure.error.message,
        streamArn: arn,
        quarantineTable: table,
        shardId: record && typeof record.eventID === 'string' ? shardIdOfEvent(record) : undefined,
        sequenceNumber: failure.sequenceNumber,
        subSequenceNumber: failure.subSequenceNumber,
        partitionKey: failure.partitionKey,
      }),
    );
  };
  const quarantineTable = typeof options.quarantine === 'object' ? options.quarantine.tableName : undefined;
  // the quarantine table of its own, for streams without a valid configuration (they have no archive table)
  const quarantineWriter =
    quarantineTable === undefined
      ? undefined
      : new ArchiveWriter({
          dynamodb: options.dynamodb,
          tableName: quarantineTable,
          mode: 'ALL',
          quarantine: options.quarantine as QuarantineOptions,
          ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
          ...(options.retry !== undefined ? { retry: options.retry } : {}),
        });
  const metricsOptions =
    options.metrics === false ? undefined : options.metrics === true ? {} : (options.metrics ?? {});
  const emit = (
    arn: string,
    mode: string,
    batch: KinesisEventRecord[],
    result: {
      written: number;
      skippedStale: number;
      compacted: number;
      tombstoned: number;
      quarantined: number;
      failed: number;
    },
  ) => {
    if (!metricsOptions) return;
    const now = Date.now();
    let oldest: number | undefined;
    for (const record of batch) {
      const t = record?.kinesis?.approximateArrivalTimestamp;
      if (typeof t === 'number' && Number.isFinite(t) && (oldest === undefined || t * 1000 < oldest))
        oldest = t * 1000;
    }
    const line = embeddedMetrics(
      {
        streamName: streamNameOfArn(arn),
        mode,
        result,
        oldestRecordAgeMs: oldest === undefined ? undefined : now - oldest,
      },
      metricsOptions.namespace ?? 'KinesisArchive',
      now,
    );
    (metricsOptions.log ?? console.log)(line);
  };

  /**
   * A stream whose configuration is invalid: its records go to the quarantine table, when there is one. Returns
   * the failures left to report (all of them without a quarantine table, or those whose quarantine write failed).
   */
  const quarantineBatch = async (
    arn: string,
    batch: KinesisEventRecord[],
    failures: WriteFailure[],
  ): Promise<WriteFailure[]> => {
    if (!quarantineWriter) return failures;
    const errors = await quarantineWriter.quarantineEntries(
      failures.map((f, j) => ({ payload: rawPayloadOf(batch[j], undefined), error: f.error })),
    );
    const left: WriteFailure[] = [];
    failures.forEach((f, j) => {
      const error = errors.get(j);
      if (error) left.push({ ...f, error });
      else logQuarantined(arn, quarantineWriter.tableName, f, batch[j]);
    });
    return left;
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
          const writer = writerOf(arn, mode, ttlSeconds);
          const result = await writer.write(batch);
          for (const f of result.failed) failures.push({ ...f, index: indexes[f.index]! });
          for (const f of result.quarantined) {
            logQuarantined(arn, quarantineTable ?? writer.tableName, f, batch[f.index]);
          }
          emit(arn, mode, batch, {
            ...result,
            quarantined: result.quarantined.length,
            failed: result.failed.length,
          });
        } catch (error) {
          // a tag that cannot be read is worth retrying; a configuration that is invalid is not
          const typed =
            error instanceof KinesisArchiveError ? error : new StreamConfigUnavailableError(arn, error);
          let batchFailures: WriteFailure[] = batch.map((record, j) => {
            const seq = record?.kinesis?.sequenceNumber;
            return { sequenceNumber: typeof seq === 'string' ? seq : undefined, index: j, error: typed };
          });
          if (isPermanentFailure(typed)) batchFailures = await quarantineBatch(arn, batch, batchFailures);
          for (const f of batchFailures) failures.push({ ...f, index: indexes[f.index]! });
          emit(arn, 'UNKNOWN', batch, {
            written: 0,
            skippedStale: 0,
            compacted: 0,
            tombstoned: 0,
            quarantined: batch.length - batchFailures.length,
            failed: batchFailures.length,
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
