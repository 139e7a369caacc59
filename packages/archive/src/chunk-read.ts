import { BatchGetItemCommand, type DynamoDBClient, type KeysAndAttributes } from '@aws-sdk/client-dynamodb';
import { Backoff, type BackoffOptions, retry } from '@kinesis-archive/core';
import { chunkKey, digest, joinChunks } from './chunking.js';
import { CorruptArchiveItemError } from './errors.js';
import type { ChunkInfo, Item } from './item-codec.js';
import type { ArchiveMode } from './types.js';

/**
 * Reads the chunks of a record (consistent reads, since chunks are written just before their head) and checks
 * their length and SHA-256. Returns undefined when some chunk is missing (the record was replaced or expired).
 *
 * @throws {@link CorruptArchiveItemError} when the chunks are all there but do not match the head.
 */
export async function readChunks(
  dynamodb: DynamoDBClient,
  tableName: string,
  mode: ArchiveMode,
  head: { partitionKey: string; sequenceKey: string },
  info: ChunkInfo,
  backoffOptions: BackoffOptions,
): Promise<Uint8Array | undefined> {
  const found = new Map<number, Uint8Array>();
  const keys = Array.from({ length: info.count }, (_, i) =>
    chunkKey(mode, head.partitionKey, head.sequenceKey, i),
  );
  for (let start = 0; start < keys.length; start += 100) {
    let request: KeysAndAttributes | undefined = {
      Keys: keys.slice(start, start + 100),
      ConsistentRead: true,
    };
    const backoff = new Backoff(backoffOptions);
    while (request?.Keys?.length) {
      const current: KeysAndAttributes = request;
      const out = await retry(
        () => dynamodb.send(new BatchGetItemCommand({ RequestItems: { [tableName]: current } })),
        backoffOptions,
      );
      // One table per request: every entry is ours, whatever name it is keyed by (table name or ARN).
      for (const item of Object.values(out.Responses ?? {}).flat() as Item[]) {
        const index = Number(item.chunkIndex?.N);
        const data = item.recordData?.B;
        if (Number.isInteger(index) && data) found.set(index, data);
      }
      request = Object.values(out.UnprocessedKeys ?? {})[0];
      if (request?.Keys?.length && !(await backoff.wait())) {
        throw new CorruptArchiveItemError('chunks could not be read in time (unprocessed keys)', { ...head });
      }
    }
  }
  if (found.size < info.count) return undefined;
  const data = joinChunks(Array.from({ length: info.count }, (_, i) => found.get(i)!));
  if (data.byteLength !== info.length || digest(data) !== info.sha256) {
    throw new CorruptArchiveItemError('chunks do not match the checksum of their head item', { ...head });
  }
  return data;
}
