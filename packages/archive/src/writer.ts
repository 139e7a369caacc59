import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { BackoffOptions, KinesisArchiveError } from '@kinesis-archive/core';
import type { WriteContext } from './context.js';
import { InvalidArchiveOptionError } from './errors.js';
import { DEFAULT_MAX_RECORD_BYTES, normalizeRecords } from './normalize.js';
import {
  deleteQuarantined,
  type QuarantineContext,
  type QuarantineEntry,
  type QuarantineOptions,
  readQuarantine,
  writeQuarantine,
} from './quarantine.js';
import { isPermanentFailure, type QuarantinedRecord } from './quarantine-codec.js';
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
  /**
   * Records with empty data delete their key, leaving a marker. Default off (empty data is a record). LATEST: the
   * marker replaces the key's record and expires after `retentionSeconds`. ALL: the marker is kept with the
   * history (and its TTL), so that `ArchiveReader.asOf` knows the key was deleted then; reads hide it unless
   * `includeTombstones`.
   */
  tombstones?: boolean | TombstoneOptions;
  /** Most DynamoDB requests in flight. Default 8. */
  concurrency?: number;
  /** Largest record archived (data + partition key bytes). Default 1 MiB, the Kinesis limit; at most 10 MiB. */
  maxRecordBytes?: number;
  /** Backoff for throttling, transient errors and unprocessed items. Default: 10 attempts within 20 s. */
  retry?: BackoffOptions;
  /**
   * Records that can never be archived (`INVALID_RECORD`, `INVALID_SEQUENCE_NUMBER`, `RECORD_TOO_LARGE`: a
   * malformed, oversized or reserved record) are written to a quarantine, byte-exact with their Kinesis metadata
   * and the error, and listed in `WriteResult.quarantined` instead of `failed`, so that a Lambda function does
   * not retry them for ever. Default `true`: in the archive table itself, under reserved keys. An object names a
   * quarantine table of its own (see {@link QuarantineOptions}); `false` reports them in `failed` like any
   * failure. Read it with `ArchiveReader.quarantine()`, re-drive it with {@link ArchiveWriter.redrive}.
   */
  quarantine?: boolean | QuarantineOptions;
}

/** Options of {@link ArchiveWriter.redrive}. */
export interface RedriveOptions {
  /** Only these quarantined records (their `id`). Default: all. */
  ids?: readonly string[];
  /** Most records re-driven. Default: all. */
  limit?: number;
}

/** What {@link ArchiveWriter.redrive} did. */
export interface RedriveResult {
  /** Records archived now (or already archived), and removed from the quarantine. */
  redriven: number;
  /** Records that still cannot be archived: they stay in the quarantine, with their new error. */
  stillQuarantined: number;
  /** Records whose write failed for a transient reason: they stay in the quarantine; try again. */
  failed: WriteFailure[];
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
    const quarantine = options.quarantine;
    if (quarantine !== undefined && typeof quarantine !== 'boolean') {
      if (typeof quarantine !== 'object' || quarantine === null) {
        throw new InvalidArchiveOptionError(
          'quarantine',
          quarantine,
          'a boolean or { tableName?, ttlSeconds? }',
        );
      }
      if (
        quarantine.tableName !== undefined &&
        (typeof quarantine.tableName !== 'string' || quarantine.tableName.length < 3)
      ) {
        throw new InvalidArchiveOptionError(
          'quarantine.tableName',
          quarantine.tableName,
          'a DynamoDB table name',
        );
      }
      positiveInteger('quarantine.ttlSeconds', quarantine.ttlSeconds);
    }
    this.tombstoneSeconds = tombstoneRetention(options.tombstones);
    positiveInteger('tombstones.retentionSeconds', this.tombstoneSeconds);
    if (
      options.mode === 'ALL' &&
      typeof options.tombstones === 'object' &&
      options.tombstones?.retentionSeconds !== undefined
    ) {
      throw new InvalidArchiveOptionError(
        'tombstones.retentionSeconds',
        options.tombstones.retentionSeconds,
        'no retention in ALL mode: a deletion is kept as long as the records around it',
      );
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

  /** Where this writer quarantines records, or undefined when `quarantine: false`. */
  private quarantineContext(): QuarantineContext | undefined {
    const o = this.options;
    if (o.quarantine === false) return undefined;
    const q = typeof o.quarantine === 'object' ? o.quarantine : {};
    return {
      dynamodb: o.dynamodb,
      place: q.tableName ? { tableName: q.tableName, mode: 'ALL' } : { tableName: o.tableName, mode: o.mode },
      concurrency: o.concurrency ?? 8,
      backoff: { ...DEFAULT_RETRY, ...o.retry },
      ttlSeconds: q.ttlSeconds,
    };
  }

  /**
   * @internal Writes records to this writer's quarantine, each with the error that keeps it there. Returns the
   * failures by position (retrying those is right). Nothing is written with `quarantine: false`: all fail.
   */
  async quarantineEntries(entries: readonly QuarantineEntry[]): Promise<Map<number, KinesisArchiveError>> {
    const q = this.quarantineContext();
    if (!q) {
      const off = new InvalidArchiveOptionError('quarantine', false, 'a quarantine to write to');
      return new Map(entries.map((_, i) => [i, off]));
    }
    return writeQuarantine(q, entries, Date.now());
  }

  /**
   * Archives the quarantined records again, for instance after a fix or with a writer that accepts them (a larger
   * `maxRecordBytes`). Each record archived is removed from the quarantine; one that still fails permanently
   * stays there with its new error; a transient failure leaves it there and is listed in `failed`.
   *
   * @example
   * ```ts
   * const bigger = new ArchiveWriter({ dynamodb, tableName, mode: 'ALL', maxRecordBytes: 10 * 1_048_576 });
   * const { redriven, stillQuarantined } = await bigger.redrive();
   * ```
   */
  async redrive(options: RedriveOptions = {}): Promise<RedriveResult> {
    const q = this.quarantineContext();
    const out: RedriveResult = { redriven: 0, stillQuarantined: 0, failed: [] };
    if (!q) return out;
    const ids = options.ids ? new Set(options.ids) : undefined;
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    if (!(limit >= 1)) throw new InvalidArchiveOptionError('limit', options.limit, 'a number >= 1');
    // one record at a time, as the quarantine is read (deleting behind the read does not disturb its paging)
    let seen = 0;
    for await (const record of readQuarantine({ ...q, consistentRead: true }, Number.POSITIVE_INFINITY)) {
      if (ids && !ids.has(record.id)) continue;
      if (seen++ >= limit) break;
      const result = await this.write([inputOfQuarantined(record)]);
      if (result.failed.length > 0) {
        out.failed.push(...result.failed);
        continue;
      }
      if (result.quarantined.length > 0) {
        // quarantined again: the same record gets the same id, so its entry now holds the new error
        out.stillQuarantined++;
        continue;
      }
      out.redriven++;
      await deleteQuarantined(q, record);
    }
    return out;
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
      tombstones: this.tombstoneSeconds !== undefined,
      tombstoneExpireAfter:
        this.tombstoneSeconds === undefined ? undefined : nowSeconds + this.tombstoneSeconds,
    };
    const q = this.quarantineContext();
    const permanent = q ? normalized.failed.filter((f) => isPermanentFailure(f.error)) : [];
    const quarantined: WriteFailure[] = [];
    const unquarantined: WriteFailure[] = q
      ? normalized.failed.filter((f) => !isPermanentFailure(f.error))
      : [...normalized.failed];
    if (q && permanent.length > 0) {
      const qFailures = await writeQuarantine(
        q,
        permanent.map((f) => ({ payload: f.payload, error: f.error })),
        nowMs,
      );
      permanent.forEach((f, i) => {
        const failure = stripPayload(f);
        const error = qFailures.get(i);
        if (error) unquarantined.push({ ...failure, error });
        else quarantined.push(failure);
      });
    }
    const out =
      normalized.records.length === 0
        ? { written: 0, tombstoned: 0, skippedStale: 0, compacted: 0, failed: [] }
        : o.mode === 'ALL'
          ? await writeAll(ctx, normalized.records)
          : await writeLatest(ctx, normalized.records);
    const byPosition = (a: WriteFailure, b: WriteFailure) =>
      a.index - b.index || (a.subSequenceNumber ?? 0) - (b.subSequenceNumber ?? 0);
    const failed: WriteFailure[] = [
      ...unquarantined.map(stripPayload),
      ...out.failed.map(({ record, error }) => ({
        sequenceNumber: record.sequenceNumber,
        subSequenceNumber: record.subSequenceNumber,
        partitionKey: record.partitionKey,
        index: record.index,
        error,
      })),
    ].sort(byPosition);
    return {
      written: out.written,
      skippedStale: out.skippedStale,
      tombstoned: out.tombstoned,
      compacted: out.compacted,
      quarantined: quarantined.sort(byPosition),
      failed,
    };
  }
}

/** A failure without the internal quarantine payload. */
function stripPayload(failure: WriteFailure & { payload?: unknown }): WriteFailure {
  const { payload: _payload, ...rest } = failure;
  return rest;
}

/** The writer input that re-creates a quarantined record. */
function inputOfQuarantined(record: QuarantinedRecord): ArchiveInput {
  if (record.payloadKind === 'raw') {
    try {
      return JSON.parse(Buffer.from(record.data).toString('utf8')) as ArchiveInput;
    } catch {
      return { data: record.data, partitionKey: record.partitionKey ?? '' } as ArchiveInput;
    }
  }
  // a deaggregated record: not deaggregated again, its sub-sequence number kept
  return {
    partitionKey: record.partitionKey ?? '',
    data: record.data,
    sequenceNumber: record.sequenceNumber,
    subSequenceNumber: record.subSequenceNumber ?? 0,
    aggregated: record.aggregated ?? false,
    explicitHashKey: record.explicitHashKey,
    approximateArrivalTimestamp: record.approximateArrivalTimestamp,
    shardId: record.shardId,
  } as ArchiveInput;
}
