import type { CheckpointStore } from './checkpoint-store.js';
import { CheckpointConflictError, CheckpointSaveError } from './errors.js';
import { cloneShardState, type ShardState } from './shard-state.js';

/** What the {@link Checkpointer} tells its consumer. */
export interface CheckpointerHooks {
  /** A state was saved (or, without a store, would have been). */
  saved(snapshot: ShardState): Promise<void>;
  /** A save failed (not a conflict): the state is saved again by the next save. */
  failed(error: CheckpointSaveError): void;
  /** True while saves must be held back (a replica scanning); a held state stays unsaved, and no event fires. */
  holding?(state: ShardState): boolean;
}

/**
 * Saves a consumer's state: only when it moved, one save at a time, calls made while a save is in flight sharing
 * the next one. A {@link CheckpointConflictError} is not swallowed: it rejects the save (another consumer owns the
 * checkpoint; the caller stops).
 */
export class Checkpointer {
  private readonly state: () => ShardState;
  private readonly store: CheckpointStore | undefined;
  private readonly hooks: CheckpointerHooks;
  private dirty = false;
  private chain: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;

  constructor(state: () => ShardState, store: CheckpointStore | undefined, hooks: CheckpointerHooks) {
    this.state = state;
    this.store = store;
    this.hooks = hooks;
  }

  /** The state moved since the last save. */
  markDirty(): void {
    this.dirty = true;
  }

  /** True when the state moved since the last save. */
  get isDirty(): boolean {
    return this.dirty;
  }

  /** Saves the state as it is when the save begins. Rejects only with a {@link CheckpointConflictError}. */
  save(): Promise<void> {
    if (!this.queued) {
      const next = this.chain.then(() => {
        this.queued = undefined;
        return this.saveNow();
      });
      this.queued = next;
      this.chain = next.catch(() => undefined);
    }
    return this.queued;
  }

  private async saveNow(): Promise<void> {
    if (!this.dirty) return;
    const snapshot = cloneShardState(this.state());
    if (this.hooks.holding?.(snapshot)) return;
    this.dirty = false;
    if (this.store) {
      try {
        await this.store.save(snapshot);
      } catch (error) {
        if (error instanceof CheckpointConflictError) throw error;
        this.dirty = true;
        this.hooks.failed(new CheckpointSaveError(error));
        return;
      }
    }
    await this.hooks.saved(snapshot);
  }
}
