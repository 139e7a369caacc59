import { KinesisArchiveError } from '@kinesis-archive/core';
import type { KinesisWriterStats } from './kinesis-writer.js';
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
 * The checkpoint does not fit this replay: it was saved for other units of work (another segment count, another
 * source), in an earlier format, or the record at its position is not the one it saw (an iterable that does not
 * replay identically). Resuming from it would skip or repeat records. Code `CHECKPOINT_MISMATCH`.
 */
export class CheckpointMismatchError extends KinesisArchiveError {
  constructor(reason: string, details: Record<string, unknown> = {}) {
    super('CHECKPOINT_MISMATCH', `the checkpoint does not fit this replay: ${reason}`, { details });
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
      result.stoppedBy
        ? `the replay stopped: ${result.stoppedBy.message} (${result.sent} of ${result.read} sent, ${result.failed.length} in the failure journal)`
        : `${result.failed.length} record(s) could not be replayed (${result.sent} of ${result.read} sent)`,
      { details: { read: result.read, sent: result.sent, failed: result.failed.length } },
    );
    this.result = result;
  }
}

/**
 * A record was not sent because an earlier record of its key failed for good (ordered replay with
 * `onKeyFailure: 'block'`, the default): sending it would leave a hole in the key's history. It is kept (journaled)
 * with the failed one, to be sent after it. Code `KEY_BLOCKED`.
 */
export class KeyBlockedError extends KinesisArchiveError {
  /** The blocked partition key. */
  readonly partitionKey: string;

  constructor(partitionKey: string) {
    super(
      'KEY_BLOCKED',
      `not sent: an earlier record of key ${JSON.stringify(partitionKey)} failed for good (onKeyFailure: 'block')`,
      { details: { partitionKey } },
    );
    this.partitionKey = partitionKey;
  }
}

/**
 * The writer stopped because a request failed in a way that fails every record (stream not found, access denied,
 * a KMS key that cannot be used, bad credentials); `cause` is that error. Code `WRITER_STOPPED`.
 */
export class WriterStoppedError extends KinesisArchiveError {
  constructor(cause: Error) {
    super('WRITER_STOPPED', `the KinesisWriter stopped: ${cause.message}`, { cause });
  }
}

/** A callback given to the writer (`onSent`, `onFailed`, ...) threw; `stats` are the writer's. Code `CALLBACK_FAILED`. */
export class WriterCallbackError extends KinesisArchiveError {
  /** The writer's stats when it finished: nothing is lost with the error. */
  readonly stats: Readonly<KinesisWriterStats<unknown>>;

  constructor(cause: unknown, stats: Readonly<KinesisWriterStats<unknown>>) {
    super(
      'CALLBACK_FAILED',
      `a KinesisWriter callback threw: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    );
    this.stats = stats;
  }
}

/** A callback of the replay (`onProgress`) threw: the replay stopped, with its result. Code `CALLBACK_FAILED`. */
export class ReplayCallbackError extends KinesisArchiveError {
  constructor(cause: unknown) {
    super(
      'CALLBACK_FAILED',
      `a replay callback threw: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    );
  }
}
