import { DescribeStreamCommand, type DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { ShardState } from './shard-state.js';

/** A shard as DescribeStream lists it (the fields the consumer uses). */
export interface ShardInfo {
  shardId: string;
  parentShardId?: string;
  /** Set once the shard is closed: no record is ever added after it. */
  endingSequenceNumber?: string;
}

/** The minimal client surface the consumer needs: an SDK v3 `DynamoDBStreamsClient` fits. */
export type StreamsClient = Pick<DynamoDBStreamsClient, 'send'>;

/**
 * Lists every shard of a stream, following `LastEvaluatedShardId` with `ExclusiveStartShardId` (100 shards a page).
 */
export async function describeShards(client: StreamsClient, streamArn: string): Promise<ShardInfo[]> {
  const shards: ShardInfo[] = [];
  let start: string | undefined;
  for (;;) {
    const out = await client.send(
      new DescribeStreamCommand({ StreamArn: streamArn, ...(start ? { ExclusiveStartShardId: start } : {}) }),
    );
    for (const s of out.StreamDescription?.Shards ?? []) {
      if (!s.ShardId) continue;
      const info: ShardInfo = { shardId: s.ShardId };
      if (s.ParentShardId) info.parentShardId = s.ParentShardId;
      const end = s.SequenceNumberRange?.EndingSequenceNumber;
      if (end) info.endingSequenceNumber = end;
      shards.push(info);
    }
    const next = out.StreamDescription?.LastEvaluatedShardId;
    if (!next || next === start) return shards;
    start = next;
  }
}

/** What changed between the saved state and the listed shards. */
export interface ShardPlanChanges {
  /** Shards seen for the first time. */
  added: string[];
  /** Shards in the state, not retired, that the stream no longer lists (gone before being drained). */
  vanished: string[];
}

/**
 * Brings `state` up to date with the listed shards (in place): adds new shards (no sequence number: they start at
 * the beginning), marks closed shards, and drops retired shards the stream no longer lists. Shards that vanished
 * while not retired are reported, not retired: the caller decides.
 */
export function reconcileShards(state: ShardState, shards: readonly ShardInfo[]): ShardPlanChanges {
  const listed = new Set(shards.map((s) => s.shardId));
  const added: string[] = [];
  for (const s of shards) {
    let p = state[s.shardId];
    if (!p) {
      p = {};
      if (s.parentShardId) p.parentShardId = s.parentShardId;
      state[s.shardId] = p;
      added.push(s.shardId);
    }
    if (s.endingSequenceNumber) p.closed = true;
  }
  const vanished: string[] = [];
  for (const [id, p] of Object.entries(state)) {
    if (listed.has(id)) continue;
    if (p.retired) {
      // Only forget a retired shard once no listed shard names it as a parent any more.
      if (!shards.some((s) => s.parentShardId === id)) delete state[id];
    } else {
      vanished.push(id);
    }
  }
  return { added, vanished };
}

/**
 * The shards that may be read now: not retired, and whose parent is drained (retired) or unknown (expired from the
 * stream long ago). A child is never read before its parent, which keeps the order of each item's changes.
 */
export function readableShards(state: ShardState): string[] {
  const out: string[] = [];
  for (const [id, p] of Object.entries(state)) {
    if (p.retired) continue;
    const parent = p.parentShardId ? state[p.parentShardId] : undefined;
    if (parent && !parent.retired) continue;
    out.push(id);
  }
  return out;
}
