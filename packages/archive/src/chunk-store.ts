import {
  type AttributeValue,
  BatchWriteItemCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { Backoff, type KinesisArchiveError, retry } from '@kinesis-archive/core';
import { batchPut } from './batch-write.js';
import { chunkCount, chunkKey, digest, splitChunks } from './chunking.js';
import type { WriteContext } from './context.js';
import { readStoredHead } from './head-read.js';
import { type ChunkInfo, encodeChunk } from './item-codec.js';
import type { NormalizedRecord } from './normalize.js';

/** What chunks belong to: a head item's key and the data they split. */
export type ChunkOwner = Pick<NormalizedRecord, 'partitionKey' | 'sequenceKey' | 'data'>;

/** The chunk reference a record needs, or undefined when its data fits in its head item. */
export function planChunks(record: ChunkOwner): ChunkInfo | undefined {
  const count = chunkCount(record.data.byteLength);
  if (count === 0) return undefined;
  return {
    count,
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

/** TTL of its own given to a chunk that is known to be orphaned but could not be deleted: 7 days. */
export const ORPHAN_CHUNK_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Deletes the chunk items of a record that is no longer referenced (a LATEST record replaced by a newer one, or
 * chunks whose head lost the race or could not be written), retrying throttled calls and unprocessed items. Best
 * effort: a chunk that still could not be deleted gets a TTL (the head's, or one of its own), so that it does not
 * stay for ever; readers never see chunk items.
 */
export async function deleteChunks(
  ctx: Pick<WriteContext, 'dynamodb' | 'tableName' | 'mode' | 'backoff'> & {
    expireAfter?: number | undefined;
  },
  partitionKey: string,
  sequenceKey: string,
  count: number,
): Promise<void> {
  const keys = Array.from({ length: count }, (_, i) => chunkKey(ctx.mode, partitionKey, sequenceKey, i));
  const left: Record<string, AttributeValue>[] = [];
  for (let i = 0; i < keys.length; i += 25) {
    let requests: WriteRequest[] = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
    const backoff = new Backoff(ctx.backoff);
    try {
      while (requests.length > 0) {
        const current = requests;
        const out = await retry(
          () => ctx.dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [ctx.tableName]: current } })),
          ctx.backoff,
        );
        requests = Object.values(out.UnprocessedItems ?? {}).flat();
        if (requests.length > 0 && !(await backoff.wait())) break;
      }
    } catch {
      // the same as unprocessed: handled below
    }
    for (const r of requests) if (r.DeleteRequest?.Key) left.push(r.DeleteRequest.Key);
  }
  if (left.length === 0) return;
  const ttl = ctx.expireAfter ?? Math.floor(Date.now() / 1000) + ORPHAN_CHUNK_TTL_SECONDS;
  for (const Key of left) {
    try {
      await retry(
        () =>
          ctx.dynamodb.send(
            new UpdateItemCommand({
              TableName: ctx.tableName,
              Key,
              UpdateExpression: 'SET expireAfter = :ttl',
              ConditionExpression: 'attribute_exists(chunkIndex)',
              ExpressionAttributeValues: { ':ttl': { N: String(ttl) } },
            }),
          ),
        ctx.backoff,
      );
    } catch {
      // best effort by design (see above)
    }
  }
}

/**
 * After a head write failed: deletes the record's chunks unless a head refers to them (the same record archived
 * before, a retry). When that cannot be told (the check fails too), they are left: deleting referenced chunks
 * would lose a record, and a retry of the record rewrites the same chunk items.
 */
export async function cleanUpAfterFailedHead(
  ctx: Pick<WriteContext, 'dynamodb' | 'tableName' | 'mode' | 'backoff' | 'expireAfter'>,
  record: ChunkOwner,
  count: number,
): Promise<void> {
  const stored = await readStoredHead(ctx, record, ['sequenceKey']);
  // could not tell: keep them (a retry of the record rewrites the same chunk items)
  if (stored === undefined) return;
  if (stored.item?.sequenceKey?.S === record.sequenceKey) return;
  await deleteChunks(ctx, record.partitionKey, record.sequenceKey, count);
}
