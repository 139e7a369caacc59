import {
  InvalidExplicitHashKeyError,
  InvalidPartitionKeyError,
  InvalidRecordError,
  isExplicitHashKey,
  isPartitionKeyTooLong,
  RecordTooLargeError,
} from '@kinesis-archive/agg';

/** Largest Kinesis record by default: data + partition key, 1 MiB. */
export const DEFAULT_MAX_RECORD_BYTES = 1_048_576;

/** A record checked against the Kinesis limits, its payload as bytes and its exact request size. */
export interface CheckedRecord {
  partitionKey: string;
  explicitHashKey: string | undefined;
  data: Uint8Array;
  /** Bytes the record counts for in a `PutRecords` request and against the shard limit: data + partition key. */
  size: number;
}

/**
 * Checks a record against the Kinesis limits (partition key of 1..256 characters, canonical explicit hash key,
 * data + key within `maxRecordBytes`) and returns it with its exact size, or throws the typed error that says why.
 *
 * @throws `InvalidRecordError`, `InvalidPartitionKeyError`, `InvalidExplicitHashKeyError` or `RecordTooLargeError`
 *   of `@kinesis-archive/agg`; `index` is the record's position in the source.
 */
export function checkRecord(
  record: { partitionKey: unknown; data: unknown; explicitHashKey?: unknown },
  index: number,
  maxRecordBytes: number = DEFAULT_MAX_RECORD_BYTES,
): CheckedRecord {
  if (record === null || typeof record !== 'object') throw new InvalidRecordError(index, 'not an object');
  const pk = record.partitionKey;
  if (typeof pk !== 'string' || pk.length === 0) {
    throw new InvalidPartitionKeyError({ index, partitionKey: pk }, 'must be a non-empty string');
  }
  if (isPartitionKeyTooLong(pk)) {
    throw new InvalidPartitionKeyError({ index, partitionKey: pk }, 'longer than 256 characters');
  }
  const ehk = record.explicitHashKey;
  if (ehk !== undefined && ehk !== null && !isExplicitHashKey(ehk)) {
    throw new InvalidExplicitHashKeyError({ index, partitionKey: pk }, String(ehk));
  }
  let data = record.data;
  if (typeof data === 'string') data = Buffer.from(data, 'utf8');
  if (!(data instanceof Uint8Array))
    throw new InvalidRecordError(index, 'data must be a Uint8Array or a string');
  const size = data.byteLength + Buffer.byteLength(pk, 'utf8');
  if (size > maxRecordBytes) {
    throw new RecordTooLargeError({ index, partitionKey: pk }, size, maxRecordBytes);
  }
  return { partitionKey: pk, explicitHashKey: typeof ehk === 'string' ? ehk : undefined, data, size };
}
