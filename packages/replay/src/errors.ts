import { KinesisArchiveError } from '@kinesis-archive/core';
import type { ReplayResult } from './result.js';

/**
 * Kinesis rejected a `PutRecords` entry (per-entry `ErrorCode`) or the whole request, and the writer gave up on the
 * record: the error was not retryable, or the attempts / time budget ran out. Code `PUT_RECORDS_FAILED`.
 */
export class PutRecordsFailedError extends KinesisArchiveError {
  /** The AWS error code (`ProvisionedThroughputExceededException`, `InternalFailure`, ...) or error name. */
  readonly errorCode: string;
  /** Attempts made for this record, the first included. */
  readonly attempts: number;

  constructor(errorCode: string, message: string, attempts: number, cause?: unknown) {
    super('PUT_RECORDS_FAILED', `PutRecords failed after ${attempts} attempt(s): ${errorCode}: ${message}`, {
      cause,
      details: { errorCode, attempts },
    });
    this.errorCode = errorCode;
    this.attempts = attempts;
  }
}

/** An option has an invalid value. Code `INVALID_REPLAY_OPTION`. */
export class InvalidReplayOptionError extends KinesisArchiveError {
  constructor(option: string, value: unknown, expected: string) {
    super('INVALID_REPLAY_OPTION', `invalid option ${option}: ${String(value)} (expected ${expected})`, {
      details: { option, value: String(value), expected },
    });
  }
}

/** `put` was called on a {@link KinesisWriter} that is closed or aborted. Code `WRITER_CLOSED`. */
export class WriterClosedError extends KinesisArchiveError {
  constructor() {
    super('WRITER_CLOSED', 'the KinesisWriter is closed');
  }
}

/**
 * The checkpoint does not match the source: the record at the saved position is not the one that was saved, so
 * the source changed and resuming would skip or repeat records. Code `CHECKPOINT_MISMATCH`.
 */
export class CheckpointMismatchError extends KinesisArchiveError {
  constructor(position: number, expected: unknown, found: unknown) {
    super(
      'CHECKPOINT_MISMATCH',
      `the source does not match the checkpoint at position ${position}: expected ${JSON.stringify(expected)}, found ${JSON.stringify(found)}`,
      { details: { position, expected, found } },
    );
  }
}

/** The payload is not a replay envelope. Code `INVALID_ENVELOPE`. */
export class InvalidEnvelopeError extends KinesisArchiveError {
  constructor(reason: string, cause?: unknown) {
    super('INVALID_ENVELOPE', `not a replay envelope: ${reason}`, { cause });
  }
}

/**
 * Thrown (as a rejection of {@link replay}) only with `throwOnFailure: true`, when at least one record could not be
 * sent. `result` is the full {@link ReplayResult}, `failed` included. Code `REPLAY_FAILED`.
 */
export class ReplayFailedError extends KinesisArchiveError {
  /** The result of the replay, with every failed record and its error. */
  readonly result: ReplayResult;

  constructor(result: ReplayResult) {
    super(
      'REPLAY_FAILED',
      `${result.failed.length} record(s) could not be replayed (${result.sent} of ${result.read} sent)`,
      { details: { read: result.read, sent: result.sent, failed: result.failed.length } },
    );
    this.result = result;
  }
}
