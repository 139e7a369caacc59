import { DescribeStreamCommand, type DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { abortable } from './reader.js';
import type { ShardState } from './shard-state.js';

/** A shard as DescribeStream lists it (the fields the consumer uses). */
export interface ShardInfo {
  shardId: string;
  parentShardId?: string;
  /** Set once the shard is closed: no record is ever added after it. */
  endingSequenceNumber?: string;
}

/** The status of a stream: `ENABLING`, `ENABLED`, `DISABLING` or `DISABLED` (a disabled stream is never enabled again). */
export type StreamStatus = 'ENABLING' | 'ENABLED' | 'DISABLING' | 'DISABLED';

/** One complete listing of a stream. */
export interface StreamListing {
  shards: ShardInfo[];
  /** `undefined` when the service did not say. */
  status: StreamStatus | undefined;
}

/** The minimal client surface the consumer needs: an SDK v3 `DynamoDBStreamsClient` fits. */
export type StreamsClient = Pick<DynamoDBStreamsClient, 'send'>;

/**
 * Lists every shard of a stream, following `LastEvaluatedShardId` with `ExclusiveStartShardId` (100 shards a page).
 */
export async function describeShards(
  client: StreamsClient,
  streamArn: string,
  abortSignal?: AbortSignal,
): Promise<StreamListing> {
  const shards: ShardInfo[] = [];
  let status: StreamStatus | undefined;
  let start: string | undefined;
  for (;;) {
    const from = start;
    const out = await abortable(abortSignal, (options) =>
      client.send(
        new DescribeStreamCommand({ StreamArn: streamArn, ...(from ? { ExclusiveStartShardId: from } : {}) }),
        options,
      ),
    );
    status ??= out.StreamDescription?.StreamStatus as StreamStatus | undefined;
    for (const s of out.StreamDescription?.Shards ?? []) {
      if (!s.ShardId) continue;
      const info: ShardInfo = { shardId: s.ShardId };
      if (s.ParentShardId) info.parentShardId = s.ParentShardId;
      const end = s.SequenceNumberRange?.EndingSequenceNumber;
      if (end) info.endingSequenceNumber = end;
      shards.push(info);
    }
    const next = out.StreamDescription?.LastEvaluatedShardId;
    if (!next || next === start) return { shards, status };
    start = next;
  }
}

/** How many complete listings in a row must leave a shard out before it counts as gone. */
export const LISTINGS_BEFORE_GONE = 3;

/** What changed between the state and one listing. */
export interface ShardPlanChanges {
  /** Shards seen for the first time. */
  added: string[];
  /** Shards not retired that the last {@link LISTINGS_BEFORE_GONE} complete listings all left out. */
  vanished: string[];
  /** Retired shards dropped from the state: their children all have progress, so they are never needed again. */
  forgotten: string[];
}

/**
 * Brings a state up to date with the listings of its stream, in place. A listing is not trusted alone: a shard it
 * leaves out is only counted missing, and reported vanished once {@link LISTINGS_BEFORE_GONE} complete listings in a
 * row left it out (the reader also reports it when the service answers ResourceNotFoundException for it).
 */
export class ShardDirectory {
  private readonly missing = new Map<string, number>();
  /** Retired shards dropped from the state: still listed for up to 24 h, they are not added again. */
  private readonly forgotten = new Set<string>();

  /**
   * Adds new shards (no sequence number: they start at the beginning), marks closed ones, counts missing ones, and
   * drops retired shards whose children all have progress (or that have no child and are no longer listed). A listed shard the state does not know, but whose child
   * has progress, was drained before (a child is read only after its parent): it is added as retired.
   */
  reconcile(state: ShardState, listing: StreamListing, streamArn: string): ShardPlanChanges {
    const listed = new Set<string>();
    const added: string[] = [];
    for (const s of listing.shards) {
      listed.add(s.shardId);
      this.missing.delete(s.shardId);
      let p = state[s.shardId];
      if (!p) {
        if (this.forgotten.has(s.shardId)) continue;
        p = { streamArn };
        if (s.parentShardId) p.parentShardId = s.parentShardId;
        state[s.shardId] = p;
        if (childHasProgress(state, s.shardId)) p.retired = true;
        else added.push(s.shardId);
      }
      if (s.endingSequenceNumber) p.closed = true;
    }
    const vanished: string[] = [];
    const forgotten: string[] = [];
    for (const [id, p] of Object.entries(state)) {
      if (p.retired) {
        if (childrenHaveProgress(state, id) || (!listed.has(id) && !hasChild(state, id))) {
          delete state[id];
          this.missing.delete(id);
          this.forgotten.add(id);
          forgotten.push(id);
        }
        continue;
      }
      if (listed.has(id)) continue;
      const count = (this.missing.get(id) ?? 0) + 1;
      this.missing.set(id, count);
      if (count >= LISTINGS_BEFORE_GONE) vanished.push(id);
    }
    return { added, vanished, forgotten };
  }

  /** Forgets what it counted (a new stream). */
  reset(): void {
    this.missing.clear();
    this.forgotten.clear();
  }
}

/** True when a shard of the state whose parent is `shardId` has a sequence number or is retired. */
export function childHasProgress(state: ShardState, shardId: string): boolean {
  for (const p of Object.values(state)) {
    if (p.parentShardId === shardId && (p.sequenceNumber !== undefined || p.retired)) return true;
  }
  return false;
}

function hasChild(state: ShardState, shardId: string): boolean {
  for (const p of Object.values(state)) if (p.parentShardId === shardId) return true;
  return false;
}

/** True when `shardId` has children in the state and every one has a sequence number or is retired. */
function childrenHaveProgress(state: ShardState, shardId: string): boolean {
  let children = 0;
  for (const p of Object.values(state)) {
    if (p.parentShardId !== shardId) continue;
    children++;
    if (p.sequenceNumber === undefined && !p.retired) return false;
  }
  return children > 0;
}

/** Where a shard stands in its lineage. */
export type LineageGate = 'readable' | 'waiting' | 'retired' | 'unknown-parent';

/**
 * Whether a shard may be read now: not retired, and its parent drained (retired). A parent the state does not know
 * is `'unknown-parent'`: the caller asks the service whether it still exists (a listing may have left it out)
 * before reading the child, which keeps the order of each item's changes.
 */
export function lineageGate(state: ShardState, shardId: string): LineageGate {
  const p = state[shardId];
  if (!p || p.retired) return 'retired';
  if (!p.parentShardId) return 'readable';
  const parent = state[p.parentShardId];
  // A child read before was read after its parent drained (a dropped parent is one whose children all have progress).
  if (!parent) return p.sequenceNumber !== undefined ? 'readable' : 'unknown-parent';
  return parent.retired ? 'readable' : 'waiting';
}

/** The shards of a state that may be read now (their parent, if any, is known and retired). */
export function readableShards(state: ShardState): string[] {
  return Object.keys(state).filter((id) => lineageGate(state, id) === 'readable');
}
