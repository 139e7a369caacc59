import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { MAX_INLINE_BYTES } from './chunking.js';
import { CorruptArchiveItemError } from './errors.js';
import type { NormalizedRecord } from './normalize.js';
import type { ArchivedRecord, ArchiveMode } from './types.js';

/** A DynamoDB item in the low-level attribute-value form. */
export type Item = Record<string, AttributeValue>;

/** How a head item refers to its chunks. */
export interface ChunkInfo {
  count: number;
  length: number;
  sha256: string;
}

/** Options of {@link encodeHead}. */
export interface EncodeOptions {
  mode: ArchiveMode;
  nowMs: number;
  /** TTL, epoch seconds. */
  expireAfter: number | undefined;
  tombstone: boolean;
  /** Set when the data goes to chunk items instead of the head. */
  chunks: ChunkInfo | undefined;
}

/** The key attributes of a record's head item. */
export function headKey(mode: ArchiveMode, partitionKey: string, sequenceKey: string): Item {
  return mode === 'ALL'
    ? { partitionKey: { S: partitionKey }, sequenceKey: { S: sequenceKey } }
    : { partitionKey: { S: partitionKey } };
}

/** Builds the head item of a record (the item readers see). */
export function encodeHead(record: NormalizedRecord, options: EncodeOptions): Item {
  const item: Item = {
    partitionKey: { S: record.partitionKey },
    sequenceKey: { S: record.sequenceKey },
    sequenceNumber: { S: record.sequenceNumber },
    subSequenceNumber: { N: String(record.subSequenceNumber) },
    approximateArrivalTimestamp: { N: String(record.arrival?.getTime() ?? options.nowMs) },
    lastUpdate: { N: String(options.nowMs) },
  };
  if (record.shardId) item.shardId = { S: record.shardId };
  if (record.explicitHashKey) item.explicitHashKey = { S: record.explicitHashKey };
  if (options.expireAfter !== undefined) item.expireAfter = { N: String(options.expireAfter) };
  if (options.tombstone) item.tombstone = { BOOL: true };
  else Object.assign(item, dataAttributes(record.data, options.chunks));
  return item;
}

/**
 * Where an item's data is: its chunk reference (`chunks`, the data lives in chunk items), the data itself, or
 * nothing for empty data.
 */
export function dataAttributes(data: Uint8Array, chunks: ChunkInfo | undefined): Item {
  if (chunks) {
    return {
      chunkCount: { N: String(chunks.count) },
      dataLength: { N: String(chunks.length) },
      dataSha256: { S: chunks.sha256 },
    };
  }
  if (data.byteLength === 0) return {};
  if (data.byteLength > MAX_INLINE_BYTES) throw new Error('inline data over MAX_INLINE_BYTES');
  return { recordData: { B: data } };
}

/** Builds a chunk item. */
export function encodeChunk(
  key: Item,
  index: number,
  data: Uint8Array,
  expireAfter: number | undefined,
): Item {
  const item: Item = { ...key, chunkIndex: { N: String(index) }, recordData: { B: data } };
  if (expireAfter !== undefined) item.expireAfter = { N: String(expireAfter) };
  return item;
}

/** True for chunk items (which readers skip: they are reached through their head). */
export function isChunkItem(item: Item): boolean {
  return item.chunkIndex !== undefined;
}

/** True for quarantine items (records that could never be archived, kept apart; see `ArchiveReader.quarantine`). */
export function isQuarantineItem(item: Item): boolean {
  return item.quarantinedAt !== undefined;
}

/** True when the item's TTL has passed at `nowSeconds` (DynamoDB deletes expired items lazily). */
export function isExpired(item: Item, nowSeconds: number): boolean {
  const n = item.expireAfter?.N;
  return n !== undefined && Number(n) <= nowSeconds;
}

/** The chunk reference of a head item, if its data lives in chunks. */
export function chunkInfoOf(item: Item): ChunkInfo | undefined {
  if (item.chunkCount?.N === undefined) return undefined;
  const count = Number(item.chunkCount.N);
  const length = Number(item.dataLength?.N);
  const sha256 = item.dataSha256?.S;
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(length) || !sha256) {
    throw new CorruptArchiveItemError('bad chunk reference', { partitionKey: item.partitionKey?.S });
  }
  return { count, length, sha256 };
}

/** Decodes a head item; `data` is the inline data (empty for chunked records: the reader fills it in). */
export function decodeHead(item: Item): ArchivedRecord {
  const partitionKey = item.partitionKey?.S;
  const sequenceNumber = item.sequenceNumber?.S;
  if (partitionKey === undefined || sequenceNumber === undefined) {
    throw new CorruptArchiveItemError('no partitionKey or sequenceNumber', { partitionKey });
  }
  const record: ArchivedRecord = {
    partitionKey,
    sequenceNumber,
    subSequenceNumber: Number(item.subSequenceNumber?.N ?? 0),
    data: item.recordData?.B ?? new Uint8Array(0),
    approximateArrivalTimestamp: new Date(Number(item.approximateArrivalTimestamp?.N ?? 0)),
    shardId: item.shardId?.S ?? '',
  };
  if (item.explicitHashKey?.S) record.explicitHashKey = item.explicitHashKey.S;
  if (item.tombstone?.BOOL) record.tombstone = true;
  if (item.lastUpdate?.N) record.lastUpdate = new Date(Number(item.lastUpdate.N));
  if (item.expireAfter?.N) record.expireAfter = new Date(Number(item.expireAfter.N) * 1000);
  return record;
}
