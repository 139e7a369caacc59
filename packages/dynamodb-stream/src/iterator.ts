import type { ChangeRecord } from './records.js';

/** A batch of changes from one shard, in order, as the async iterator yields it. */
export interface ChangeBatch {
  /** The shard the changes come from. */
  shardId: string;
  /** The changes, oldest first. */
  records: ChangeRecord[];
}

/** A batch read but not yet acknowledged, with what acknowledging it does. */
export interface PendingBatch {
  batch: ChangeBatch;
  /** Moves the shard's state past the batch. */
  commit(): void;
}

/** What the batch iterator drives. */
export interface BatchSource {
  /** One poll of every readable shard; batches are not committed. */
  pollBatches(): Promise<PendingBatch[]>;
  /** True once the consumer stopped. */
  stopped(): boolean;
  /** Waits between empty polls (ends early on stop). */
  idle(ms: number): Promise<void>;
  /** Saves the checkpoint after a commit. */
  save(): Promise<void>;
  /** Forgets read-ahead positions of batches that were never committed, so they are read again. */
  abandon(): void;
}

/**
 * Async iterator of batches with backpressure: the next poll happens only when the consumer asks for more, and a
 * batch's checkpoint is saved only once the consumer asked for the batch after it.
 */
export async function* batchIterator(
  source: BatchSource,
  pollIntervalMs: number,
): AsyncGenerator<ChangeBatch, void, undefined> {
  const queue: PendingBatch[] = [];
  let pending: PendingBatch | undefined;
  try {
    for (;;) {
      while (queue.length === 0) {
        if (source.stopped()) return;
        queue.push(...(await source.pollBatches()));
        if (queue.length === 0) await source.idle(pollIntervalMs);
      }
      while (queue.length > 0) {
        pending = queue.shift()!;
        yield pending.batch;
        pending.commit();
        pending = undefined;
        await source.save();
      }
    }
  } finally {
    if (pending !== undefined || queue.length > 0) source.abandon();
  }
}
