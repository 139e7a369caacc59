import { KinesisArchiveError } from '@kinesis-archive/core';

/** What identifies a user record in an error: its position in the input and its partition key. */
export interface RecordRef {
  /** Zero-based position of the record among those given to the aggregator (across `add` calls). */
  index: number;
  /** The record's partition key (possibly truncated to 300 characters in messages, never in `details`). */
  partitionKey: unknown;
}

function show(value: unknown): string {
  const s = typeof value === 'string' ? value : String(value);
  return JSON.stringify(s.length > 300 ? `${s.slice(0, 300)}…` : s);
}

/**
 * A user record cannot fit in one Kinesis record even alone: its data plus its partition key (UTF-8 bytes)
 * exceed `maxBytes`. Code `RECORD_TOO_LARGE`. Nothing was emitted for it.
 */
export class RecordTooLargeError extends KinesisArchiveError {
  /** Position of the offending record in the input. */
  readonly index: number;
  /** Partition key of the offending record. */
  readonly partitionKey: string;
  /** Bytes the record needs (data + partition key). */
  readonly size: number;
  /** The limit in force. */
  readonly maxBytes: number;

  constructor(ref: { index: number; partitionKey: string }, size: number, maxBytes: number) {
    super(
      'RECORD_TOO_LARGE',
      `record #${ref.index} (partition key ${show(ref.partitionKey)}) needs ${size} bytes (data + partition key), over the limit of ${maxBytes}`,
      { details: { index: ref.index, partitionKey: ref.partitionKey, size, maxBytes } },
    );
    this.index = ref.index;
    this.partitionKey = ref.partitionKey;
    this.size = size;
    this.maxBytes = maxBytes;
  }
}

/**
 * A partition key that is not a string of 1..256 Unicode characters, or that holds a lone surrogate (UTF-8 would
 * replace it with U+FFFD, so the key would come back changed). Code `INVALID_PARTITION_KEY`.
 */
export class InvalidPartitionKeyError extends KinesisArchiveError {
  /** Position of the offending record in the input (-1 when the key was not given as part of a record). */
  readonly index: number;
  /** The offending partition key. */
  readonly partitionKey: unknown;

  constructor(ref: RecordRef, reason: string) {
    super(
      'INVALID_PARTITION_KEY',
      `record #${ref.index}: invalid partition key ${show(ref.partitionKey)}: ${reason}`,
      {
        details: { index: ref.index, partitionKey: ref.partitionKey, reason },
      },
    );
    this.index = ref.index;
    this.partitionKey = ref.partitionKey;
  }
}

/**
 * An explicit hash key that is not a decimal integer in `0 .. 2^128-1` written canonically (`0|[1-9]\d{0,38}`).
 * Code `INVALID_EXPLICIT_HASH_KEY`.
 */
export class InvalidExplicitHashKeyError extends KinesisArchiveError {
  /** Position of the offending record in the input (-1 when not part of a record). */
  readonly index: number;
  /** Partition key of the offending record. */
  readonly partitionKey: unknown;
  /** The offending explicit hash key. */
  readonly explicitHashKey: unknown;

  constructor(ref: RecordRef, explicitHashKey: unknown) {
    super(
      'INVALID_EXPLICIT_HASH_KEY',
      `record #${ref.index} (partition key ${show(ref.partitionKey)}): invalid explicit hash key ${show(explicitHashKey)}`,
      { details: { index: ref.index, partitionKey: ref.partitionKey, explicitHashKey } },
    );
    this.index = ref.index;
    this.partitionKey = ref.partitionKey;
    this.explicitHashKey = explicitHashKey;
  }
}

/** A user record that is not a `{ partitionKey, data }` object. Code `INVALID_RECORD`. */
export class InvalidRecordError extends KinesisArchiveError {
  /** Position of the offending record in the input. */
  readonly index: number;

  constructor(index: number, reason: string) {
    super('INVALID_RECORD', `record #${index}: ${reason}`, { details: { index, reason } });
    this.index = index;
  }
}

/** Why a record is not a valid KPL aggregate. */
export type InvalidAggregateReason =
  | 'not-aggregated'
  | 'too-short'
  | 'bad-checksum'
  | 'bad-protobuf'
  | 'index-out-of-range'
  | 'no-records';

/**
 * A Kinesis record that is not a valid KPL aggregate, raised by `deaggregate` only with `onInvalid: 'throw'`
 * (or `'throw-corrupt'` for records that carry the magic). Code `INVALID_AGGREGATE`.
 */
export class InvalidAggregateError extends KinesisArchiveError {
  /** Why the record was rejected. */
  readonly reason: InvalidAggregateReason;
  /** The outer partition key of the record. */
  readonly partitionKey: string;
  /** The outer sequence number of the record, when known. */
  readonly sequenceNumber: string | undefined;

  constructor(
    reason: InvalidAggregateReason,
    ref: { partitionKey: string; sequenceNumber?: string | undefined },
    detail?: string,
    cause?: unknown,
  ) {
    super(
      'INVALID_AGGREGATE',
      `record ${ref.sequenceNumber ?? '(no sequence number)'} (partition key ${show(ref.partitionKey)}) is not a valid KPL aggregate: ${reason}${detail ? ` (${detail})` : ''}`,
      { cause, details: { reason, partitionKey: ref.partitionKey, sequenceNumber: ref.sequenceNumber } },
    );
    this.reason = reason;
    this.partitionKey = ref.partitionKey;
    this.sequenceNumber = ref.sequenceNumber;
  }
}

/** An invalid option value (e.g. `maxBytes` out of range). Code `INVALID_OPTION`. */
export class InvalidOptionError extends KinesisArchiveError {
  constructor(option: string, value: unknown, expected: string) {
    super('INVALID_OPTION', `invalid ${option}: ${show(value)} (expected ${expected})`, {
      details: { option, value },
    });
  }
}

/**
 * An aggregator was created with neither a `shardMap` nor `mixShards: true`. Code `SHARD_MAP_REQUIRED`.
 *
 * Without a shard map an aggregate would carry records of every shard, and a KCL consumer keeps only the
 * sub-records that hash to the shard that received it: on a stream of two or more shards, records would be lost.
 */
export class ShardMapRequiredError extends KinesisArchiveError {
  constructor() {
    super(
      'SHARD_MAP_REQUIRED',
      'aggregation needs a shard map: pass { shardMap: await ShardMap.load(client, { streamName }) } so that no aggregate mixes two shards (a KCL consumer drops the records of an aggregate that belong to another shard). Pass { mixShards: true } instead only for a one-shard stream or for consumers that do not filter by hash range.',
    );
  }
}
