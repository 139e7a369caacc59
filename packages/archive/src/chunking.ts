import { createHash } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { ArchiveMode } from './types.js';

/** Records with more data bytes than this are stored in chunks (a DynamoDB item holds at most 400 KB). */
export const MAX_INLINE_BYTES = 350_000;
/** Data bytes per chunk item. */
export const CHUNK_BYTES = 350_000;
/**
 * Prefix of the partition keys of chunk items in a LATEST table. Records whose partition key starts with it are
 * rejected (`INVALID_RECORD`) so that they can never collide with a chunk.
 */
export const CHUNK_KEY_PREFIX = '\u0000chunk\u0000';

/** How many chunk items data of `length` bytes takes: 0 when it fits in its head item. */
export function chunkCount(length: number): number {
  return length <= MAX_INLINE_BYTES ? 0 : Math.ceil(length / CHUNK_BYTES);
}

/** Splits `data` into views of at most {@link CHUNK_BYTES} bytes. */
export function splitChunks(data: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let start = 0; start < data.byteLength; start += CHUNK_BYTES) {
    chunks.push(data.subarray(start, Math.min(start + CHUNK_BYTES, data.byteLength)));
  }
  return chunks;
}

/** The key of chunk `index` of the record at (`partitionKey`, `sequenceKey`). */
export function chunkKey(
  mode: ArchiveMode,
  partitionKey: string,
  sequenceKey: string,
  index: number,
): Record<string, AttributeValue> {
  const n = String(index).padStart(4, '0');
  return mode === 'ALL'
    ? { partitionKey: { S: partitionKey }, sequenceKey: { S: `${sequenceKey}#${n}` } }
    : { partitionKey: { S: `${CHUNK_KEY_PREFIX}${sequenceKey}#${n}#${partitionKey}` } };
}

/** Hex SHA-256 of `data`, stored on a chunked record's head item and checked by the reader. */
export function digest(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Concatenates chunks back into one array. */
export function joinChunks(chunks: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(chunks);
}
