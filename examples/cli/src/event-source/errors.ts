import { KinesisArchiveError } from '@kinesis-archive/core';

/** Thrown by `runKinesisEventSource` for options it cannot use. Code `INVALID_EVENT_SOURCE_OPTIONS`. */
export class EventSourceOptionsError extends KinesisArchiveError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('INVALID_EVENT_SOURCE_OPTIONS', message, { details });
  }
}

/**
 * Thrown by `runKinesisEventSource` (with `onRetriesExhausted: 'throw'`, the default) when the handler still fails a
 * batch after `maxRetries` retries. Nothing past the batch's first record was checkpointed. Code
 * `EVENT_SOURCE_RETRIES_EXHAUSTED`; `cause` is the handler's last error, if it threw.
 */
export class EventSourceRetriesExhaustedError extends KinesisArchiveError {
  constructor(
    readonly shardId: string,
    readonly firstSequenceNumber: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(
      'EVENT_SOURCE_RETRIES_EXHAUSTED',
      `the handler failed the batch of shard ${shardId} starting at sequence number ${firstSequenceNumber} ` +
        `${attempts} time(s); stopping there (checkpoint unchanged)`,
      { cause, details: { shardId, firstSequenceNumber, attempts } },
    );
  }
}

/** Thrown when the stream to read does not exist. Code `STREAM_NOT_FOUND`. */
export class StreamNotFoundError extends KinesisArchiveError {
  constructor(stream: string, cause?: unknown) {
    super('STREAM_NOT_FOUND', `stream ${JSON.stringify(stream)} does not exist`, {
      cause,
      details: { stream },
    });
  }
}
