import type { CheckpointStore as Store } from '@kinesis-archive/core';
import { CheckpointMismatchError } from './errors.js';
import type { ReplayRecord } from './types.js';

/**
 * Where a replay stands: `position` records of the source (in read order) are done (acknowledged by Kinesis or
 * reported as failed), and `last` identifies the record at `position - 1` so that a resumed replay can check that
 * it reads the same source. Plain JSON: store it anywhere.
 */
export interface ReplayCheckpoint {
  /** Records of the source, from its start in read order, that are done. */
  position: number;
  /** The record at `position - 1`. */
  last?: {
    partitionKey: string;
    sequenceNumber?: string | undefined;
    subSequenceNumber?: number | undefined;
  };
}

/**
 * Loads and saves a replay's {@link ReplayCheckpoint} (a file, a DynamoDB item, ...): core's `CheckpointStore`.
 * `save` is called as the replay advances (never concurrently) and once at the end.
 */
export type CheckpointStore = Store<ReplayCheckpoint>;

function identity(record: ReplayRecord): NonNullable<ReplayCheckpoint['last']> {
  const id: NonNullable<ReplayCheckpoint['last']> = { partitionKey: record.partitionKey };
  if (record.sequenceNumber !== undefined) id.sequenceNumber = record.sequenceNumber;
  if (record.subSequenceNumber !== undefined) id.subSequenceNumber = record.subSequenceNumber;
  return id;
}

/** Throws {@link CheckpointMismatchError} unless `record` is the one the checkpoint saw at `position - 1`. */
export function verifyCheckpoint(checkpoint: ReplayCheckpoint, record: ReplayRecord): void {
  const expected = checkpoint.last;
  if (!expected) return;
  const found = identity(record);
  if (
    found.partitionKey !== expected.partitionKey ||
    found.sequenceNumber !== expected.sequenceNumber ||
    (found.subSequenceNumber ?? 0) !== (expected.subSequenceNumber ?? 0)
  ) {
    throw new CheckpointMismatchError(checkpoint.position, expected, found);
  }
}

/**
 * Tracks which records (by position in read order) are done, and the contiguous prefix that a checkpoint may
 * cover; saves it through the store, one save at a time.
 */
export class CheckpointTracker {
  private watermark: number;
  private readonly done = new Map<number, ReplayRecord>();
  private lastRecord: ReplayRecord | undefined;
  private saved: number;
  private saving: Promise<void> | undefined;
  private dirty = false;
  private saveError: { error: unknown } | undefined;

  constructor(
    private readonly store: CheckpointStore | undefined,
    start: ReplayCheckpoint | undefined,
  ) {
    this.watermark = start?.position ?? 0;
    this.saved = this.watermark;
  }

  /** The current contiguous done prefix. */
  get position(): number {
    return this.watermark;
  }

  /** Marks the record at `position` as done and advances the prefix. */
  settle(position: number, record: ReplayRecord): void {
    if (position < this.watermark) return;
    this.done.set(position, record);
    while (this.done.has(this.watermark)) {
      this.lastRecord = this.done.get(this.watermark);
      this.done.delete(this.watermark);
      this.watermark++;
    }
    if (this.store && this.watermark > this.saved) this.requestSave();
  }

  private requestSave(): void {
    if (this.saving) {
      this.dirty = true;
      return;
    }
    const checkpoint: ReplayCheckpoint = { position: this.watermark };
    if (this.lastRecord) checkpoint.last = identity(this.lastRecord);
    this.saved = this.watermark;
    this.saving = Promise.resolve()
      .then(() => this.store!.save(checkpoint))
      .catch((error: unknown) => {
        this.saveError ??= { error };
      })
      .finally(() => {
        this.saving = undefined;
        if (this.dirty) {
          this.dirty = false;
          if (this.watermark > this.saved) this.requestSave();
        }
      });
  }

  /** Waits for the saves in progress; rethrows the first save error. */
  async drain(): Promise<void> {
    while (this.saving) await this.saving;
    if (this.saveError) throw this.saveError.error;
  }
}
