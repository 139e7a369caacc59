import { KinesisArchiveError } from '@kinesis-archive/core';

/**
 * A record given to the writer that cannot be archived as it is (not a Kinesis record, data that is not base64,
 * an empty or reserved partition key, ...). Code `INVALID_RECORD`. It is reported in `failed`, never dropped.
 */
export class InvalidArchiveRecordError extends KinesisArchiveError {
  constructor(index: number, reason: string, details: Record<string, unknown> = {}) {
    super('INVALID_RECORD', `record #${index}: ${reason}`, { details: { index, reason, ...details } });
  }
}

/**
 * A record larger than the writer's `maxRecordBytes` (data + partition key, default 1 MiB, the Kinesis limit).
 * Code `RECORD_TOO_LARGE`.
 */
export class ArchiveRecordTooLargeError extends KinesisArchiveError {
  constructor(size: number, maxBytes: number, details: Record<string, unknown> = {}) {
    super(
      'RECORD_TOO_LARGE',
      `record of ${size} bytes (data + partition key) is over the limit of ${maxBytes}`,
      {
        details: { size, maxBytes, ...details },
      },
    );
  }
}

/** A write to DynamoDB that still failed after the retries (throttling, unprocessed items, ...). Code `WRITE_FAILED`. */
export class ArchiveWriteError extends KinesisArchiveError {
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super('WRITE_FAILED', message, options);
  }
}

/** The archive table does not exist. Code `TABLE_NOT_FOUND`. */
export class ArchiveTableNotFoundError extends KinesisArchiveError {
  constructor(tableName: string, cause?: unknown) {
    super('TABLE_NOT_FOUND', `archive table ${JSON.stringify(tableName)} does not exist`, {
      cause,
      details: { tableName },
    });
  }
}

/** A table exists under the archive's name with another key schema. Code `TABLE_SCHEMA_MISMATCH`. */
export class ArchiveTableSchemaError extends KinesisArchiveError {
  constructor(tableName: string, expected: string, actual: string) {
    super(
      'TABLE_SCHEMA_MISMATCH',
      `table ${JSON.stringify(tableName)} exists with key schema ${actual}, but the archive needs ${expected}`,
      { details: { tableName, expected, actual } },
    );
  }
}

/** An archived item that cannot be read back (missing chunks, bad checksum, bad attributes). Code `CORRUPT_ITEM`. */
export class CorruptArchiveItemError extends KinesisArchiveError {
  constructor(reason: string, details: Record<string, unknown> = {}) {
    super('CORRUPT_ITEM', `archived item cannot be read: ${reason}`, { details: { reason, ...details } });
  }
}

/** An invalid option of a writer, reader, table or handler. Code `INVALID_OPTION`. */
export class InvalidArchiveOptionError extends KinesisArchiveError {
  constructor(option: string, value: unknown, expected: string) {
    super('INVALID_OPTION', `invalid ${option}: ${JSON.stringify(value)} (expected ${expected})`, {
      details: { option, value },
    });
  }
}

/** Tags on a stream that do not make a valid archive configuration. Code `INVALID_ARCHIVE_CONFIG`. */
export class ArchiveConfigError extends KinesisArchiveError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('INVALID_ARCHIVE_CONFIG', message, { details });
  }
}

/** True for the SDK's "table not found" error. */
export function isResourceNotFound(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'ResourceNotFoundException';
}

/** The archive table did not become ACTIVE in time. Code `TABLE_NOT_ACTIVE`. */
export class ArchiveTableNotActiveError extends KinesisArchiveError {
  constructor(tableName: string, timeoutMs: number) {
    super('TABLE_NOT_ACTIVE', `table ${JSON.stringify(tableName)} is not ACTIVE after ${timeoutMs} ms`, {
      details: { tableName, timeoutMs },
    });
  }
}
