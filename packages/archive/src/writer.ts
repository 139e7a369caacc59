import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { BackoffOptions } from '@kinesis-archive/core';
import type { WriteContext } from './context.js';
import { InvalidArchiveOptionError } from './errors.js';
import { DEFAULT_MAX_RECORD_BYTES, normalizeRecords } from './normalize.js';
import { type TombstoneOptions, tombstoneRetention } from './tombstones.js';
import type { ArchiveInput, ArchiveMode, WriteFailure, WriteResult } from './types.js';
import { writeAll } from './writer-all.js';
import { writeLatest } from './writer-latest.js';

/** Options of {@link ArchiveWriter}. */
export interface ArchiveWriterOptions {
  /** Your configured DynamoDB client. */
  dynamodb: DynamoDBClient;
  /** The archive table (see `createArchiveTable`). */
  tableName: string;
  /** `ALL` keeps every record; `LATEST` keeps the newest record per partition key. */
  mode: ArchiveMode;
  /** Items expire (DynamoDB TTL on `expireAfter`) this many seconds after they are written. Default: never. */
  ttlSeconds?: number;
  /** LATEST only: records with empty data delete their key, leaving a marker. Default off (empty data is a record). */
  tombstones?: boolean | TombstoneOptions;
  /** Most DynamoDB requests in flight. Default 8. */
  concurrency?: number;
  /** Largest record archived (data + partition key bytes). Default 1 MiB, the Kinesis limit; at most 10 MiB. */
  maxRecordBytes?: number;
  /** Backoff for throttling, transient errors and unprocessed items. Default: 10 attempts within 20 s. */
  retry?: BackoffOptions;
}

/** Options of one {@link ArchiveWriter.write} call. */
export interface WriteOptions {
  /** Shard id stored with records that do not carry one (SDK `GetRecords` records do not). */
  shardId?: string;
}

const DEFAULT_RETRY: BackoffOptions = {
  maxAttempts: 10,
  budgetMs: 20_000,
  baseDelayMs: 50,
  maxDelayMs: 2_000,
};

function positiveInteger(name: string, value: number | undefined, max = Number.MAX_SAFE_INTEGER): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > max)) {
    throw new InvalidArchiveOptionError(name, value, `an integer from 1 to ${max}`);
  }
}

/**
 * Archives Kinesis records into a DynamoDB table: every record (`ALL`) or only the newest per partition key
 * (`LATEST`, log compaction). KPL aggregates are deaggregated and stored under their user records' keys.
 *
 * @example
 * ```ts
 * const writer = new ArchiveWriter({ dynamodb, tableName: 'orders-archive-LATEST', mode: 'LATEST' });
 * const result = await writer.write(event.Records);
 * if (result.failed.length > 0) console.error(result.failed[0].error.code);
 * ```
 */
export class ArchiveWriter {
  private readonly options: ArchiveWriterOptions;
  private readonly tombstoneSeconds: number | undefined;

  /** @throws {@link InvalidArchiveOptionError} for an invalid option. */
  constructor(options: ArchiveWriterOptions) {
    if (options.mode !== 'ALL' && options.mode !== 'LATEST') {
      throw new InvalidArchiveOptionError('mode', options.mode, "'ALL' or 'LATEST'");
    }
    if (typeof options.tableName !== 'string' || options.tableName.length < 3) {
      throw new InvalidArchiveOptionError('tableName', options.tableName, 'a DynamoDB table name');
    }
    positiveInteger('ttlSeconds', options.ttlSeconds);
    positiveInteger('concurrency', options.concurrency, 256);
    positiveInteger('maxRecordBytes', options.maxRecordBytes, 10 * 1_048_576);
    this.tombstoneSeconds = tombstoneRetention(options.tombstones);
    positiveInteger('tombstones.retentionSeconds', this.tombstoneSeconds);
    if (this.tombstoneSeconds !== undefined && options.mode !== 'LATEST') {
      throw new InvalidArchiveOptionError('tombstones', options.tombstones, 'tombstones only in LATEST mode');
    }
    this.options = options;
  }

  /** The table this writer archives into. */
  get tableName(): string {
    return this.options.tableName;
  }

  /** The writer's mode. */
  get mode(): ArchiveMode {
    return this.options.mode;
  }

  /**
   * Archives `records`. Never throws for a bad record or a failed write: each user record is counted once in the
   * result, and those that could not be archived are listed in `failed` with a typed error.
   *
   * @throws {@link InvalidArchiveOptionError} only when `records` is not an array.
   */
  async write(records: readonly ArchiveInput[], options: WriteOptions = {}): Promise<WriteResult> {
    const o = this.options;
    if (!Array.isArray(records))
      throw new InvalidArchiveOptionError('records', typeof records, 'an array of records');
    const normalized = normalizeRecords(records, {
      shardId: options.shardId,
      maxRecordBytes: o.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES,
    });
    const nowMs = Date.now();
    const nowSeconds = Math.floor(nowMs / 1000);
    const ctx: WriteContext = {
      dynamodb: o.dynamodb,
      tableName: o.tableName,
      mode: o.mode,
      concurrency: o.concurrency ?? 8,
      backoff: { ...DEFAULT_RETRY, ...o.retry },
      nowMs,
      expireAfter: o.ttlSeconds === undefined ? undefined : nowSeconds + o.ttlSeconds,
      tombstoneExpireAfter:
        this.tombstoneSeconds === undefined ? undefined : nowSeconds + this.tombstoneSeconds,
    };
    const out =
      normalized.records.length === 0
        ? { written: 0, tombstoned: 0, skippedStale: 0, compacted: 0, failed: [] }
        : o.mode === 'ALL'
          ? await writeAll(ctx, normalized.records)
          : await writeLatest(ctx, normalized.records);
    const failed: WriteFailure[] = [
      ...normalized.failed,
      ...out.failed.map(({ record, error }) => ({
        sequenceNumber: record.sequenceNumber,
        subSequenceNumber: record.subSequenceNumber,
        partitionKey: record.partitionKey,
        index: record.index,
        error,
      })),
    ].sort((a, b) => a.index - b.index || (a.subSequenceNumber ?? 0) - (b.subSequenceNumber ?? 0));
    return {
      written: out.written,
      skippedStale: out.skippedStale,
      tombstoned: out.tombstoned,
      compacted: out.compacted,
      failed,
    };
  }
}
