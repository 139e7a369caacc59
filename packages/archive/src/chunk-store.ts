import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { type KinesisArchiveError, retry } from '@kinesis-archive/core';
import { batchPut } from './batch-write.js';
import { CHUNK_BYTES, chunkKey, digest, MAX_INLINE_BYTES, splitChunks } from './chunking.js';
import type { WriteContext } from './context.js';
import { type ChunkInfo, encodeChunk } from './item-codec.js';
import type { NormalizedRecord } from './normalize.js';

/** What chunks belong to: a head item's key and the data they split. */
export type ChunkOwner = Pick<NormalizedRecord, 'partitionKey' | 'sequenceKey' | 'data'>;

/** The chunk reference a record needs, or undefined when its data fits in its head item. */
export function planChunks(record: ChunkOwner): ChunkInfo | undefined {
  if (record.data.byteLength <= MAX_INLINE_BYTES) return undefined;
  return {
    count: Math.ceil(record.data.byteLength / CHUNK_BYTES),
    length: record.data.byteLength,
    sha256: digest(record.data),
  };
}

/**
 * Writes the chunk items of several chunked records (before their heads, so a reader never sees a head whose
 * chunks are missing). Returns the failures by position in `records`.
 */
export async function putChunks(
  ctx: Pick<WriteContext, 'dynamodb' | 'tableName' | 'mode' | 'concurrency' | 'backoff' | 'expireAfter'>,
  records: readonly ChunkOwner[],
): Promise<Map<number, KinesisArchiveError>> {
  const entries = records.flatMap((record, owner) =>
    splitChunks(record.data).map((data, i) => ({
      owner,
      item: encodeChunk(
        chunkKey(ctx.mode, record.partitionKey, record.sequenceKey, i),
        i,
        data,
        ctx.expireAfter,
      ),
    })),
  );
  // Chunk items are up to ~350 KB: keep 25-item groups well under BatchWriteItem's 16 MB.
  return batchPut(ctx.dynamodb, ctx.tableName, entries, {
    concurrency: ctx.concurrency,
    backoff: ctx.backoff,
  });
}

/**
 * Deletes the chunk items of a record that is no longer referenced (a LATEST record replaced by a newer one, or
 * chunks whose head lost the race). Best effort: a chunk left behind is invisible to readers and expires with TTL.
 */
export async function deleteChunks(
  ctx: Pick<WriteContext, 'dynamodb' | 'tableName' | 'mode' | 'backoff'>,
  partitionKey: string,
  sequenceKey: string,
  count: number,
): Promise<void> {
  const keys = Array.from({ length: count }, (_, i) => chunkKey(ctx.mode, partitionKey, sequenceKey, i));
  try {
    for (let i = 0; i < keys.length; i += 25) {
      const requests = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
      await retry(
        () => ctx.dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [ctx.tableName]: requests } })),
        ctx.backoff,
      );
    }
  } catch {
    // Best effort by design (see above): the archive stays correct without this cleanup.
  }
}
