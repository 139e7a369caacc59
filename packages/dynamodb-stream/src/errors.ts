import { KinesisArchiveError } from '@kinesis-archive/core';

/** Thrown by {@link DynamoDBCheckpointStore.save} when another consumer saved the same checkpoint in between. */
export class CheckpointConflictError extends KinesisArchiveError {
  constructor(name: string, expectedVersion: number | undefined, cause?: unknown) {
    super(
      'CHECKPOINT_CONFLICT',
      `checkpoint "${name}" was written by another consumer (expected version ${expectedVersion ?? 'none'})`,
      { cause, details: { name, expectedVersion } },
    );
  }
}

/** Thrown for a shard state that is not one this package wrote (e.g. an old iterator-based state). */
export class InvalidShardStateError extends KinesisArchiveError {
  constructor(reason: string, details: Record<string, unknown> = {}) {
    super('INVALID_SHARD_STATE', `invalid shard state: ${reason}`, { details });
  }
}

/**
 * Emitted (as `'error'`) when a listener threw or rejected for a record. The shard stops at that record and the
 * record is delivered again on the next poll.
 */
export class ListenerError extends KinesisArchiveError {
  constructor(shardId: string, sequenceNumber: string, event: string, cause: unknown) {
    super('LISTENER_FAILED', `a '${event}' listener failed for record ${sequenceNumber} of ${shardId}`, {
      cause,
      details: { shardId, sequenceNumber, event },
    });
  }
}

/** Emitted (as `'error'`) when a stream record cannot be decoded (e.g. a number too large to unmarshall). */
export class RecordDecodeError extends KinesisArchiveError {
  constructor(shardId: string, sequenceNumber: string, cause: unknown) {
    super('RECORD_DECODE_FAILED', `record ${sequenceNumber} of ${shardId} could not be decoded`, {
      cause,
      details: { shardId, sequenceNumber },
    });
  }
}

/** Emitted (as `'error'`) when reading a shard failed after retries; the shard is read again on the next poll. */
export class ShardReadError extends KinesisArchiveError {
  constructor(shardId: string, operation: string, cause: unknown) {
    super('SHARD_READ_FAILED', `${operation} failed for ${shardId}`, {
      cause,
      details: { shardId, operation },
    });
  }
}

/** Emitted (as `'error'`) when listing the shards of the stream failed after retries. */
export class DescribeStreamError extends KinesisArchiveError {
  constructor(streamArn: string, cause: unknown) {
    super('DESCRIBE_STREAM_FAILED', `DescribeStream failed for ${streamArn}`, {
      cause,
      details: { streamArn },
    });
  }
}

/** Emitted (as `'error'`) when saving a checkpoint failed; the state is saved again after the next poll. */
export class CheckpointSaveError extends KinesisArchiveError {
  constructor(cause: unknown) {
    super('CHECKPOINT_SAVE_FAILED', 'saving the checkpoint failed', { cause });
  }
}

/** Thrown when a method is called in a phase that does not allow it (e.g. `batches()` while `start()` runs). */
export class ConsumerStateError extends KinesisArchiveError {
  constructor(message: string) {
    super('CONSUMER_STATE', message);
  }
}
