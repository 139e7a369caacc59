import type { ShardState } from './shard-state.js';

/**
 * When a {@link TableReplica}'s stream may save its checkpoint: not while a save could make a restart wrong. That
 * is while the table is being scanned (a restart must scan again), and while a shard bookmarked at LATEST has no
 * sequence number yet: such a state, saved, would make a restart read that shard from TRIM_HORIZON and re-apply
 * changes older than the scan. A held state stays unsaved (and no `'checkpoint'` event fires): the first save
 * after the hold saves the state whole.
 */
export class BookmarkGate {
  private readonly waiting = new Set<string>();
  private scanning = false;

  /** Holds every save until {@link scanDone}. */
  scanStarted(): void {
    this.scanning = true;
  }

  /** Lets saves through again once the scan finished. */
  scanDone(): void {
    this.scanning = false;
  }

  /** Holds saves until each of these shards has a sequence number (or was retired). */
  waitFor(shardIds: Iterable<string>): void {
    for (const id of shardIds) this.waiting.add(id);
  }

  /** True while saves are held back. */
  holding(state: ShardState): boolean {
    for (const id of this.waiting) {
      const p = state[id];
      if (!p || p.retired || p.sequenceNumber !== undefined) this.waiting.delete(id);
    }
    return this.scanning || this.waiting.size > 0;
  }
}
