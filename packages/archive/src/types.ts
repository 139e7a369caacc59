import type { DeaggregatedRecord, RecordInput } from '@kinesis-archive/agg';
import type { GetRecordsRecord, KinesisArchiveError, KinesisEventRecord } from '@kinesis-archive/core';

/** `ALL`: every record, keyed by (partition key, position). `LATEST`: only the newest record per partition key. */
export type ArchiveMode = 'ALL' | 'LATEST';

/**
 * What the writer accepts: a Lambda Kinesis event record, an AWS SDK v3 `GetRecords` record, a record out of
 * `deaggregate` (not deaggregated again) or a plain `{ data, partitionKey, sequenceNumber }`. KPL aggregates among
 * the first, second and last kinds are deaggregated.
 */
export type ArchiveInput = KinesisEventRecord | GetRecordsRecord | DeaggregatedRecord | RecordInput;

/** A record read back from the archive. */
export interface ArchivedRecord {
  /** The user record's partition key (for a KPL sub-record, its own key, not the aggregate's). */
  partitionKey: string;
  /** The Kinesis sequence number, as Kinesis wrote it. */
  sequenceNumber: string;
  /** Index inside its KPL aggregate; 0 for a plain record. */
  subSequenceNumber: number;
  /** The payload, byte-exact. Empty for a tombstone. */
  data: Uint8Array;
  /** When Kinesis received the record (the write time when the input did not say). */
  approximateArrivalTimestamp: Date;
  /** The shard the record came from; `''` when the writer was not told. */
  shardId: string;
  /** The explicit hash key, when the producer gave one. */
  explicitHashKey?: string;
  /** True for a tombstone (deletion marker), returned only with `includeTombstones: true`. */
  tombstone?: boolean;
  /** When the item was written. */
  lastUpdate?: Date;
  /** When the item expires (TTL), if it does. */
  expireAfter?: Date;
}

/** One record that could not be archived, with the reason. */
export interface WriteFailure {
  /** The (outer) Kinesis sequence number; undefined only when the input had none (or not a valid one). */
  sequenceNumber: string | undefined;
  /** Index of the user record inside its aggregate (0 for a plain record), when known. */
  subSequenceNumber?: number;
  /** The user record's partition key, when known. */
  partitionKey?: string;
  /** Position of the (outer) record in the array given to `write`. */
  index: number;
  /** Why: `INVALID_RECORD`, `INVALID_SEQUENCE_NUMBER`, `RECORD_TOO_LARGE`, `TABLE_NOT_FOUND`, `WRITE_FAILED`, ... */
  error: KinesisArchiveError;
}

/**
 * The outcome of `ArchiveWriter.write`. Every user record is counted exactly once:
 * `written + tombstoned + skippedStale + compacted + quarantined.length + failed.length` = user records in the
 * input.
 */
export interface WriteResult {
  /** Records stored (ALL: every new or re-delivered record; LATEST: the records that became a key's latest). */
  written: number;
  /** LATEST: records not stored because the archive already holds a newer or the same position for their key. */
  skippedStale: number;
  /** LATEST with tombstones: deletion markers stored. */
  tombstoned: number;
  /** LATEST: records superseded inside the same batch by a newer record of their key (never written). */
  compacted: number;
  /**
   * Records that can never be archived (malformed, oversized, reserved key), written to the quarantine with their
   * error instead (see the writer's `quarantine` option), in input order. Retrying them cannot help: a Lambda
   * handler does not report them.
   */
  quarantined: WriteFailure[];
  /** Records that could not be archived (nor quarantined), in input order: retry them. */
  failed: WriteFailure[];
}
