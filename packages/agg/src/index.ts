/**
 * `@kinesis-archive/agg`: KPL-compatible aggregation and deaggregation of Kinesis records, with exact size
 * accounting, per-shard aggregation through a {@link ShardMap}, and typed errors.
 *
 * @packageDocumentation
 */
export type {
  AggregatedRecord,
  AggregateLimits,
  AggregateOptions,
  MixShardsAggregateOptions,
  PutRecordsEntry,
  ShardAwareAggregateOptions,
  UserRecord,
} from './aggregate.js';
export { Aggregator, aggregate, aggregateStream, toPutRecordsEntry } from './aggregate.js';
export {
  AGGREGATE_OVERHEAD,
  CHECKSUM_LENGTH,
  DEFAULT_AGGREGATE_PARTITION_KEY,
  DEFAULT_MAX_BYTES,
  MAGIC,
  MAX_HASH_KEY,
  MAX_MAX_BYTES,
  MAX_PARTITION_KEY_LENGTH,
} from './constants.js';
export type {
  DeaggregatedRecord,
  DeaggregateInput,
  DeaggregateOptions,
  HashKeyRange,
  RecordInput,
} from './deaggregate.js';
export { deaggregate, isAggregated } from './deaggregate.js';
export type { InvalidAggregateReason, RecordRef } from './errors.js';
export {
  InvalidAggregateError,
  InvalidExplicitHashKeyError,
  InvalidOptionError,
  InvalidPartitionKeyError,
  InvalidRecordError,
  RecordTooLargeError,
  ShardMapRequiredError,
} from './errors.js';
export { hashKeyOf, isExplicitHashKey } from './hash.js';
export { isPartitionKeyTooLong } from './partition-key.js';
export type { KinesisClientLike, ShardDescription, ShardRange, StreamRef } from './shard-map.js';
export { ShardMap } from './shard-map.js';
