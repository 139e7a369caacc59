import { describeError, KinesisArchiveError, RetryExhaustedError } from '@kinesis-archive/core';
import { ArchiveTableNotFoundError, ArchiveWriteError, isResourceNotFound } from './errors.js';

/** Turns whatever a DynamoDB call threw into the typed error reported for the records it concerned. */
export function toWriteError(error: unknown, tableName: string): KinesisArchiveError {
  const inner = error instanceof RetryExhaustedError ? error.cause : error;
  if (isResourceNotFound(inner)) return new ArchiveTableNotFoundError(tableName, inner);
  if (error instanceof KinesisArchiveError && !(error instanceof RetryExhaustedError)) return error;
  return new ArchiveWriteError(`write to ${tableName} failed: ${describeError(error)}`, {
    cause: error,
    details: { tableName },
  });
}
