import type { CheckpointStore as Store } from '@kinesis-archive/core';
import type { CheckpointConflictError } from './errors.js';
import { cloneShardState, parseShardState, type ShardState } from './shard-state.js';

/**
 * Where a consumer keeps its {@link ShardState} between runs (core's `CheckpointStore`). `load` is called once
 * before the first poll; `save` after each poll (or batch) that moved the state, and may throw
 * {@link CheckpointConflictError} when another consumer owns the checkpoint.
 */
export type CheckpointStore = Store<ShardState>;

/**
 * A {@link CheckpointStore} in memory: for tests, and for consumers that restart from their own saved state.
 *
 * @example
 * ```ts
 * const store = new InMemoryCheckpointStore();
 * const stream = new DynamoDBStream({ client, streamArn, checkpointStore: store });
 * ```
 */
export class InMemoryCheckpointStore implements CheckpointStore {
  private state: ShardState | undefined;
  /** How many times {@link save} was called. */
  saves = 0;

  constructor(initial?: ShardState) {
    this.state = initial === undefined ? undefined : parseShardState(initial);
  }

  async load(): Promise<ShardState | undefined> {
    return this.state === undefined ? undefined : cloneShardState(this.state);
  }

  async save(state: ShardState): Promise<void> {
    this.state = cloneShardState(state);
    this.saves++;
  }
}
