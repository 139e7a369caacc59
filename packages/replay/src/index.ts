/**
 * `@kinesis-archive/replay`: replay a kinesis-archive (or any record source) into a Kinesis stream, in order per
 * key, at the shard limits, with resumable cursors and a failure journal so that nothing is lost; plus
 * {@link KinesisWriter}, the batching `PutRecords` writer it is built on.
 *
 * @packageDocumentation
 */
export type { CheckpointStore, ReplayCheckpoint } from './checkpoint.js';
export type { ReplayCursor } from './cursor.js';
export type { DynamoDBFailureJournalOptions } from './dynamodb-journal.js';
export { DynamoDBFailureJournal } from './dynamodb-journal.js';
export type { ReplayEnvelope } from './envelope.js';
export { ENVELOPE_VERSION, unwrapEnvelope, wrapEnvelope } from './envelope.js';
export {
  CheckpointMismatchError,
  InvalidEnvelopeError,
  InvalidReplayOptionError,
  KeyBlockedError,
  PutRecordsFailedError,
  ReplayCallbackError,
  ReplayFailedError,
  WriterCallbackError,
  WriterClosedError,
  WriterStoppedError,
} from './errors.js';
export { FileFailureJournal } from './file-journal.js';
export type {
  FailureJournal,
  JournalEntry,
  JournalRecord,
  MemoryJournalLimits,
  SourcePosition,
} from './journal.js';
export { fromJournalRecord, JournalFullError, MemoryFailureJournal } from './journal.js';
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
export { CHECKPOINT_FAILURE_LIMITS, MEMORY_FAILURE_LIMITS, replay } from './replay.js';
export type { ReplayResult } from './result.js';
export type { ReplaySegmentOptions, ReplaySegmentResult, SegmentStats } from './segment.js';
export { replaySegment } from './segment.js';
export { JournalWriteError } from './sink.js';
export type { ReplayTargetOptions } from './target.js';
export type {
  ArchiveQueryOptions,
  ArchiveReaderLike,
  ArchiveScanOptions,
  KinesisClientLike,
  RecordIdentity,
  ReplayFailure,
  ReplayRecord,
  ReplaySource,
} from './types.js';
export type { SourceOptions } from './units.js';
export { isArchiveReader, scanUnitName, segmentOf } from './units.js';
