import type { ChangeRecord } from './records.js';
import type { Deliver, Delivery } from './shard-worker.js';

/** A batch of changes from one shard, in order, as the async iterator yields it. */
export interface ChangeBatch {
  /** The shard the changes come from. */
  shardId: string;
  /** The changes, oldest first. */
  records: ChangeRecord[];
}

/** A batch handed to the iterator, not yet acknowledged. */
export interface PendingBatch {
  readonly batch: ChangeBatch;
  /** Commits the batch: the shard moves past it and its worker reads on. */
  ack(): void;
}

interface Entry extends PendingBatch {
  drop(): void;
}

/**
 * The hand-over between the shard workers and the async iterator: each worker puts one batch and waits until the
 * iterator acknowledged it (so a shard never reads ahead of its consumer, and memory holds at most one batch per
 * shard). Batches still here when the run stops are dropped: their workers read them again next time.
 */
export class BatchQueue {
  private readonly entries: Entry[] = [];
  private waiter: (() => void) | undefined;
  private closed = false;
  private over = false;
  private readonly commit: (shardId: string, sequenceNumber: string) => void;

  constructor(commit: (shardId: string, sequenceNumber: string) => void) {
    this.commit = commit;
  }

  /** The deliverer the workers of an iterator run use. */
  readonly deliver: Deliver = (shardId, changes, signal) =>
    new Promise<Delivery>((resolve) => {
      if (this.closed || signal.aborted) return resolve({ settled: 0 });
      const onAbort = () => entry.drop();
      const entry: Entry = {
        batch: { shardId, records: changes },
        ack: () => {
          signal.removeEventListener('abort', onAbort);
          this.commit(shardId, changes.at(-1)!.sequenceNumber);
          resolve({ settled: changes.length });
        },
        drop: () => {
          signal.removeEventListener('abort', onAbort);
          const at = this.entries.indexOf(entry);
          if (at >= 0) this.entries.splice(at, 1);
          resolve({ settled: 0 });
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.entries.push(entry);
      this.wake();
    });

  /** Ends taking once `ended` settled (the run is over) and no batch is left. Call once per run. */
  endWith(ended: Promise<void>): void {
    const over = () => {
      this.over = true;
      this.wake();
    };
    ended.then(over, over);
  }

  /** The next batch; `undefined` once the run ended (see {@link endWith}) and no batch is left. */
  async take(): Promise<PendingBatch | undefined> {
    for (;;) {
      const entry = this.entries.shift();
      if (entry) return entry;
      if (this.over || this.closed) return undefined;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  /** No batch is taken any more; those waiting are dropped. */
  close(): void {
    this.closed = true;
    for (const entry of this.entries.splice(0)) entry.drop();
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}
