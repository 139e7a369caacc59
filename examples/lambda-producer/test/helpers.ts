import { type KinesisClient, SplitShardCommand } from '@aws-sdk/client-kinesis';
import type { ProducerEvent } from '../src/input.js';

/** 200 events over 40 keys, their payloads tagged (`<tag>-<i>`). */
export function taggedEvents(tag: string): ProducerEvent[] {
  return Array.from({ length: 200 }, (_, i) => ({ key: `user-${i % 40}`, payload: `${tag}-${i}` }));
}

/** Splits the first shard of a one-shard stream in the middle of the hash key range (a reshard). */
export async function splitFirstShard(kinesis: KinesisClient, streamName: string): Promise<void> {
  await kinesis.send(
    new SplitShardCommand({
      StreamName: streamName,
      ShardToSplit: 'shardId-000000000000',
      NewStartingHashKey: (2n ** 127n).toString(),
    }),
  );
}
