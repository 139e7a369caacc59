/**
 * `@kinesis-archive/archive`: keep a Kinesis stream's records in DynamoDB beyond the stream's retention, either
 * ALL of them or only the LATEST per partition key (log compaction), and read them back. Includes a Lambda handler
 * with partial batch responses and configuration from stream tags.
 *
 * @packageDocumentation
 */
export { CHUNK_BYTES, CHUNK_KEY_PREFIX, MAX_INLINE_BYTES } from './chunking.js';
export type {
  CompactCheckpoint,
  CompactCursor,
  CompactOptions,
  CompactSegmentOptions,
  CompactSegmentResult,
  CompactStats,
} from './compact.js';
export { CompactWriteError, compact, compactSegment } from './compact.js';
export type { ArchiveConfig, LoadArchiveConfigOptions } from './config-from-tags.js';
export {
  clearArchiveConfigCache,
  DEFAULT_CONFIG_CACHE_MS,
  loadArchiveConfig,
  MODE_TAG,
  parseArchiveTags,
  TTL_TAG,
} from './config-from-tags.js';
export {
  ArchiveConfigError,
  ArchiveRecordTooLargeError,
  ArchiveTableNotActiveError,
  ArchiveTableNotFoundError,
  ArchiveTableSchemaError,
  ArchiveWriteError,
  CorruptArchiveItemError,
  InvalidArchiveOptionError,
  InvalidArchiveRecordError,
} from './errors.js';
export type { ArchiveHandlerOptions } from './lambda-handler.js';
export {
  createArchiveHandler,
  StreamConfigUnavailableError,
  streamNameOfArn,
  UnreportableFailureError,
} from './lambda-handler.js';
export { DEFAULT_MAX_RECORD_BYTES } from './normalize.js';
export type { QuarantineOptions } from './quarantine.js';
export type { QuarantinedRecord } from './quarantine-codec.js';
export {
  isPermanentFailure,
  PERMANENT_FAILURE_CODES,
  RESERVED_QUARANTINE_PREFIX,
} from './quarantine-codec.js';
export type { ReadFilterOptions } from './read-filter.js';
export type {
  ArchiveReaderOptions,
  AsOfOptions,
  CorruptItemOptions,
  GetOptions,
  QueryOptions,
  ScanCursor,
  ScanOptions,
} from './reader.js';
export { ArchiveReader } from './reader.js';
export type { ArchiveBilling, CreateArchiveTableOptions, CreateArchiveTableResult } from './table.js';
export { archiveTableName, createArchiveTable } from './table.js';
export type { TombstoneOptions } from './tombstones.js';
export { DEFAULT_TOMBSTONE_RETENTION_SECONDS } from './tombstones.js';
export type { ArchivedRecord, ArchiveInput, ArchiveMode, WriteFailure, WriteResult } from './types.js';
export type { ArchiveWriterOptions, RedriveOptions, RedriveResult, WriteOptions } from './writer.js';
export { ArchiveWriter } from './writer.js';
export { LATEST_CONDITION } from './writer-latest.js';
