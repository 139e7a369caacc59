import type { CheckpointStore as Store } from '@kinesis-archive/core';
import { CheckpointMismatchError, InvalidReplayOptionError } from './errors.js';
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
  /**
   * Records after `position` that are done too (acknowledged while an earlier one was still being retried), as
   * sorted half-open ranges `[from, to)` of positions. A resumed replay skips them. Absent when there are none.
   */
  done?: [number, number][] | undefined;
}

/**
 * Loads and saves a replay's {@link ReplayCheckpoint} (a file, a DynamoDB item, ...): core's `CheckpointStore`.
 * `save` is called as the replay advances (never concurrently) and once at the end.
 */
export type CheckpointStore = Store<ReplayCheckpoint>;

type RecordIdentity = NonNullable<ReplayCheckpoint['last']>;

function identity(record: ReplayRecord): RecordIdentity {
  const id: RecordIdentity = { partitionKey: record.partitionKey };
  if (record.sequenceNumber !== undefined) id.sequenceNumber = record.sequenceNumber;
  if (record.subSequenceNumber !== undefined) id.subSequenceNumber = record.subSequenceNumber;
  return id;
}

/**
 * Checks the shape of a loaded checkpoint: `position` an integer >= 0, `done` sorted, disjoint `[from, to)` ranges
 * after it.
 *
 * @throws {@link InvalidReplayOptionError} naming the field.
 */
export function checkLoadedCheckpoint(checkpoint: ReplayCheckpoint): void {
  const position = checkpoint.position ?? 0;
  if (!Number.isInteger(position) || position < 0) {
    throw new InvalidReplayOptionError('checkpoint.position', position, 'an integer >= 0');
  }
  let rangeStart = position;
  for (const range of checkpoint.done ?? []) {
    const [from, to] = Array.isArray(range) ? range : [];
    if (!Number.isInteger(from) || !Number.isInteger(to) || from! < rangeStart || to! <= from!) {
      throw new InvalidReplayOptionError(
        'checkpoint.done',
        JSON.stringify(range),
        'sorted [from, to) ranges',
      );
    }
    rangeStart = to!;
  }
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
  /** Done positions past the prefix, with the identity of their record (not the record: no payloads kept). */
  private readonly done = new Map<number, RecordIdentity>();
  /** The `done` ranges of the checkpoint resumed from (positions not read again yet are still done). */
  private readonly inherited: readonly [number, number][];
  private inheritedCursor = 0;
  private lastRecord: RecordIdentity | undefined;
  private version = 0;
  private savedVersion = 0;
  private saving: Promise<void> | undefined;
  private dirty = false;
  private saveError: { error: unknown } | undefined;

  constructor(
    private readonly store: CheckpointStore | undefined,
    start: ReplayCheckpoint | undefined,
  ) {
    this.watermark = start?.position ?? 0;
    this.inherited = start?.done ?? [];
  }

  /** The current contiguous done prefix. */
  get position(): number {
    return this.watermark;
  }

  /**
   * Whether the checkpoint resumed from says the record at `position` is done (in its `done` ranges). Call it with
   * increasing positions.
   */
  wasDone(position: number): boolean {
    const ranges = this.inherited;
    while (this.inheritedCursor < ranges.length && ranges[this.inheritedCursor]![1] <= position) {
      this.inheritedCursor++;
    }
    const range = ranges[this.inheritedCursor];
    return range !== undefined && range[0] <= position;
  }

  /** Marks the record at `position` as done and advances the prefix. */
  settle(position: number, record: ReplayRecord): void {
    if (position < this.watermark || this.done.has(position)) return;
    this.done.set(position, identity(record));
    while (this.done.has(this.watermark)) {
      this.lastRecord = this.done.get(this.watermark);
      this.done.delete(this.watermark);
      this.watermark++;
    }
    this.version++;
    if (this.store) this.requestSave();
  }

  /** Positions at or after the prefix that are done, as sorted half-open ranges (this run's and inherited ones). */
  private doneRanges(): [number, number][] {
    const all: [number, number][] = [...this.done.keys()].map((p) => [p, p + 1]);
    for (const [from, to] of this.inherited) {
      const start = Math.max(from, this.watermark);
      if (start < to) all.push([start, to]);
    }
    all.sort((a, b) => a[0] - b[0]);
    const ranges: [number, number][] = [];
    for (const [from, to] of all) {
      const last = ranges.at(-1);
      if (last && last[1] >= from) last[1] = Math.max(last[1], to);
      else ranges.push([from, to]);
    }
    return ranges;
  }

  private requestSave(): void {
    if (this.saving) {
      this.dirty = true;
      return;
    }
    const checkpoint: ReplayCheckpoint = { position: this.watermark };
    if (this.lastRecord) checkpoint.last = { ...this.lastRecord };
    const done = this.doneRanges();
    if (done.length > 0) checkpoint.done = done;
    this.savedVersion = this.version;
    this.saving = Promise.resolve()
      .then(() => this.store!.save(checkpoint))
      .catch((error: unknown) => {
        this.saveError ??= { error };
      })
      .finally(() => {
        this.saving = undefined;
        if (this.dirty) {
          this.dirty = false;
          if (this.version > this.savedVersion) this.requestSave();
        }
      });
  }

  /** Waits for the saves in progress; rethrows the first save error. */
  async drain(): Promise<void> {
    while (this.saving) await this.saving;
    if (this.saveError) throw this.saveError.error;
  }
}
