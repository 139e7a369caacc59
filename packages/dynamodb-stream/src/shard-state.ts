import { isSequenceNumber } from '@kinesis-archive/core';
import { InvalidShardStateError } from './errors.js';

/** Progress of one shard. Plain JSON: safe to store anywhere. */
export interface ShardProgress {
  /** Sequence number of the last record fully processed; absent when none was processed yet. */
  sequenceNumber?: string;
  /** The shard's parent, as DescribeStream reported it. */
  parentShardId?: string;
  /** The shard is closed (it has an ending sequence number) . */
  closed?: boolean;
  /** The shard was drained to its end (or vanished) and is never read again. */
  retired?: boolean;
  /**
   * The stream the shard belongs to. A state saved for another stream (the table's stream was disabled and enabled
   * again, which makes a new stream) is recognised on load instead of being taken for vanished shards.
   */
  streamArn?: string;
}

/**
 * The state of a stream consumer: the progress of each shard, keyed by shard id. It holds sequence numbers, never
 * shard iterators (which expire after 15 minutes), so a consumer resumes after any pause.
 */
export type ShardState = Record<string, ShardProgress>;

const KEYS = new Set(['sequenceNumber', 'parentShardId', 'closed', 'retired', 'streamArn']);

/**
 * Checks that `value` is a {@link ShardState} and returns a deep copy of it.
 *
 * @throws {@link InvalidShardStateError} for anything else, e.g. the iterator-based state of other libraries.
 */
export function parseShardState(value: unknown): ShardState {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidShardStateError('expected an object keyed by shard id');
  }
  const out: ShardState = {};
  for (const [shardId, progress] of Object.entries(value)) {
    if (progress === null || typeof progress !== 'object' || Array.isArray(progress)) {
      throw new InvalidShardStateError(`shard ${shardId}: expected an object`, { shardId });
    }
    const p = progress as Record<string, unknown>;
    for (const key of Object.keys(p)) {
      if (!KEYS.has(key)) {
        throw new InvalidShardStateError(`shard ${shardId}: unknown field "${key}"`, { shardId, field: key });
      }
    }
    if (p.sequenceNumber !== undefined && !isSequenceNumber(p.sequenceNumber)) {
      throw new InvalidShardStateError(`shard ${shardId}: bad sequence number`, { shardId });
    }
    for (const field of ['parentShardId', 'streamArn'] as const) {
      if (p[field] !== undefined && (typeof p[field] !== 'string' || p[field] === '')) {
        throw new InvalidShardStateError(`shard ${shardId}: bad ${field}`, { shardId, field });
      }
    }
    for (const flag of ['closed', 'retired'] as const) {
      if (p[flag] !== undefined && typeof p[flag] !== 'boolean') {
        throw new InvalidShardStateError(`shard ${shardId}: "${flag}" must be a boolean`, { shardId });
      }
    }
    const copy: ShardProgress = {};
    if (p.sequenceNumber !== undefined) copy.sequenceNumber = p.sequenceNumber as string;
    if (p.parentShardId !== undefined) copy.parentShardId = p.parentShardId as string;
    if (p.streamArn !== undefined) copy.streamArn = p.streamArn as string;
    if (p.closed) copy.closed = true;
    if (p.retired) copy.retired = true;
    out[shardId] = copy;
  }
  return out;
}

/** A deep copy of a state (states handed out never alias the live one). */
export function cloneShardState(state: ShardState): ShardState {
  const out: ShardState = {};
  for (const [id, p] of Object.entries(state)) out[id] = { ...p };
  return out;
}
