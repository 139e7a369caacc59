/**
 * `@kinesis-archive/core`: the small shared base of kinesis-archive. Sequence-number order and encoding,
 * retry with jittered exponential backoff, the error base class and the Lambda Kinesis event types.
 *
 * @packageDocumentation
 */
export type { CheckpointStore } from './checkpoint.js';
export { AbortError, describeError, KinesisArchiveError, RetryExhaustedError } from './errors.js';
export type {
  BatchItemFailure,
  EventSourceInfo,
  GetRecordsRecord,
  KinesisBatchResponse,
  KinesisEventPayload,
  KinesisEventRecord,
  KinesisStreamEvent,
} from './lambda.js';
export { shardIdOfEvent, toKinesisEventRecord } from './lambda.js';
export { forEachLimit } from './pool.js';
export type { BackoffOptions, RetryOptions } from './retry.js';
export { Backoff, backoffDelay, isThrottlingError, isTransientError, retry, sleep } from './retry.js';
export type { RecordPosition } from './sequence.js';
export {
  assertSequenceNumber,
  comparePositions,
  compareSequenceNumbers,
  decodeSequenceKey,
  encodeSequenceKey,
  InvalidSequenceNumberError,
  isSequenceNumber,
  MAX_SEQUENCE_DIGITS,
  SEQUENCE_KEY_LENGTH,
  SUB_SEQUENCE_DIGITS,
} from './sequence.js';
