/**
 * `@kinesis-archive/replay`: replay a kinesis-archive (or any record source) into a Kinesis stream, in order per
 * key, at the shard limits, retrying partial failures and losing nothing; plus {@link KinesisWriter}, the batching
 * `PutRecords` writer it is built on.
 *
 * @packageDocumentation
 */
export type { CheckpointStore, ReplayCheckpoint } from './checkpoint.js';
export type { ReplayEnvelope } from './envelope.js';
export { ENVELOPE_VERSION, unwrapEnvelope, wrapEnvelope } from './envelope.js';
export {
  CheckpointMismatchError,
  InvalidEnvelopeError,
  InvalidReplayOptionError,
  PutRecordsFailedError,
  ReplayFailedError,
  WriterClosedError,
} from './errors.js';
export type {
  KinesisWriterOptions,
  KinesisWriterStats,
  SentInfo,
  WriterFailure,
  WriterRecord,
} from './kinesis-writer.js';
export { KinesisWriter } from './kinesis-writer.js';
export type { ReplayProgress } from './progress.js';
export type { RateLimit } from './rate-limiter.js';
export { ShardRateLimiter } from './rate-limiter.js';
export type { ReplayOptions } from './replay.js';
export { replay } from './replay.js';
export type { ReplayResult } from './result.js';
export { isArchiveReader, segmentOf } from './source.js';
export type {
  ArchiveQueryOptions,
  ArchiveReaderLike,
  ArchiveScanOptions,
  KinesisClientLike,
  ReplayFailure,
  ReplayRecord,
  ReplaySource,
} from './types.js';
