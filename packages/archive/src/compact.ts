import { KinesisArchiveError } from '@kinesis-archive/core';
import { InvalidArchiveOptionError } from './errors.js';
import type { ArchiveReader } from './reader.js';
import type { ArchivedRecord, ArchiveInput, WriteFailure } from './types.js';
import type { ArchiveWriter } from './writer.js';

/** Where a segment's compaction resumes: after the whole history of `afterKey` (a key of that segment). */
export interface CompactCursor {
  afterKey: string;
}

/** What one compaction unit (or a whole compaction) did. */
export interface CompactStats {
  /** Keys whose history was read to the end. */
  keys: number;
  /** Records written to the target (its `written` + `tombstoned`). */
  written: number;
  /** Records the target already held, or held newer (a rerun): its `skippedStale`. */
  skippedStale: number;
  /** With `asOf`: keys left out, because they had no record by then or their newest one deleted them. */
  absent: number;
  /** Records the target quarantined (see the writer's `quarantine` option). */
  quarantined: number;
}

/** Options of {@link compactSegment}. */
export interface CompactSegmentOptions {
  /** The ALL archive. */
  source: ArchiveReader;
  /** The LATEST archive written (its writes are conditional: a rerun changes nothing). */
  target: ArchiveWriter;
  /** This unit's parallel-scan segment, 0-based, of `totalSegments`. */
  segment: number;
  totalSegments: number;
  /** Where an earlier run of this segment stopped (its result's `cursor`). Default: the start. */
  cursor?: CompactCursor | undefined;
  /**
   * Stop once this much time has passed (checked between batches, at a key boundary), returning `done: false`
   * and the cursor to resume from. Default: run the segment to its end.
   */
  budgetMs?: number | undefined;
  /** The LATEST state as of this time (see `ArchiveReader.asOf`) instead of the newest record of each key. */
  asOf?: Date | number | undefined;
  /** In the source, a record with empty data deletes its key (see `ArchiveReader.asOf`). */
  tombstones?: boolean | undefined;
  /** Records per target `write`. Default 500. */
  batchSize?: number | undefined;
}

/** What {@link compactSegment} returns. */
export interface CompactSegmentResult {
  /** Resume from here (undefined when the segment is done). Every key up to it is settled in the target. */
  cursor: CompactCursor | undefined;
  done: boolean;
  stats: CompactStats;
}

/**
 * A target write failed for a reason a retry may fix (`failures` lists the records and errors). The work stops
 * at once; `cursor` is where the segment can resume (every key before it is settled). Code `COMPACT_FAILED`.
 */
export class CompactWriteError extends KinesisArchiveError {
  readonly failures: WriteFailure[];
  readonly cursor: CompactCursor | undefined;

  constructor(failures: WriteFailure[], cursor: CompactCursor | undefined) {
    const first = failures[0]?.error;
    super(
      'COMPACT_FAILED',
      `compaction stopped: ${failures.length} record(s) could not be written to the target${first ? ` (${first.code}: ${first.message})` : ''}`,
      { cause: first, details: { failed: failures.length, cursor } },
    );
    this.failures = failures;
    this.cursor = cursor;
  }
}

const emptyStats = (): CompactStats => ({ keys: 0, written: 0, skippedStale: 0, absent: 0, quarantined: 0 });

function addStats(into: CompactStats, from: CompactStats): void {
  into.keys += from.keys;
  into.written += from.written;
  into.skippedStale += from.skippedStale;
  into.absent += from.absent;
  into.quarantined += from.quarantined;
}

/** The writer input that stores `record` as it is (a deaggregated record: its sub-sequence number kept). */
function inputOf(record: ArchivedRecord): ArchiveInput {
  return {
    partitionKey: record.partitionKey,
    data: record.data,
    sequenceNumber: record.sequenceNumber,
    subSequenceNumber: record.subSequenceNumber,
    aggregated: false,
    explicitHashKey: record.explicitHashKey,
    approximateArrivalTimestamp: record.approximateArrivalTimestamp,
    shardId: record.shardId,
  } as ArchiveInput;
}

/**
 * One unit of compaction: one parallel-scan segment of an ALL archive into a LATEST archive, for at most
 * `budgetMs`. Each key's history is read whole (it comes together in its segment), and only its newest record is
 * written (or the newest as of `asOf`). The cursor passes a key only once its record is written, so a unit killed
 * at any point and run again from its last cursor loses nothing, and the target's conditional writes make any
 * rerun a no-op. The same unit runs in one process (`compact`), in several, or on a distributed engine.
 *
 * @example
 * ```ts
 * let cursor: CompactCursor | undefined;
 * do {
 *   const step = await compactSegment({ source, target, segment: 3, totalSegments: 16, cursor, budgetMs: 60_000 });
 *   cursor = step.cursor;
 *   if (step.done) break;
 * } while (true);
 * ```
 * @throws {@link CompactWriteError} when a target write fails (resume from its `cursor`).
 */
export async function compactSegment(options: CompactSegmentOptions): Promise<CompactSegmentResult> {
  const { source, target, segment, totalSegments } = options;
  if (source.mode !== 'ALL')
    throw new InvalidArchiveOptionError('source.mode', source.mode, "an 'ALL' archive");
  if (target.mode !== 'LATEST') {
    throw new InvalidArchiveOptionError('target.mode', target.mode, "a 'LATEST' archive");
  }
  const batchSize = options.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new InvalidArchiveOptionError('batchSize', options.batchSize, 'a positive integer');
  }
  const time = options.asOf instanceof Date ? options.asOf.getTime() : options.asOf;
  if (time !== undefined && !Number.isFinite(time)) {
    throw new InvalidArchiveOptionError('asOf', options.asOf, 'a valid Date or epoch milliseconds');
  }
  const started = Date.now();
  const budget = options.budgetMs ?? Number.POSITIVE_INFINITY;
  const stats = emptyStats();
  let cursor = options.cursor;
  let batch: ArchiveInput[] = [];
  /** The last key read whole, whose record (if any) is in `batch` or written. */
  let lastKey: string | undefined;

  const flush = async (): Promise<void> => {
    if (batch.length > 0) {
      const result = await target.write(batch);
      if (result.failed.length > 0) throw new CompactWriteError(result.failed, cursor);
      stats.written += result.written + result.tombstoned;
      stats.skippedStale += result.skippedStale;
      stats.quarantined += result.quarantined.length;
      batch = [];
    }
    if (lastKey !== undefined) cursor = { afterKey: lastKey };
  };

  const states = source.keyStates({
    segment,
    totalSegments,
    time,
    tombstones: options.tombstones ?? false,
    afterKey: cursor?.afterKey,
  });
  for await (const state of states) {
    stats.keys++;
    lastKey = state.partitionKey;
    if (!state.record || (time !== undefined && state.deletion)) {
      // nothing as of the time, or deleted by then: the key is absent from that state
      if (time !== undefined) stats.absent++;
    } else {
      // without a time, the newest record is written as it is, a deletion included (the target's tombstones
      // option decides what an empty record means there), as feeding the target every record would leave it
      batch.push(inputOf(state.deletion ? { ...state.record, data: new Uint8Array(0) } : state.record));
    }
    if (batch.length >= batchSize) {
      await flush();
      if (Date.now() - started >= budget) {
        await states.return(undefined);
        return { cursor, done: false, stats };
      }
    }
  }
  await flush();
  return { cursor: undefined, done: true, stats };
}

/** Saved progress of a {@link compact}: per segment its cursor, `'done'`, or null (not started). */
export interface CompactCheckpoint {
  totalSegments: number;
  segments: (CompactCursor | 'done' | null)[];
}

/** Options of {@link compact}. */
export interface CompactOptions {
  source: ArchiveReader;
  target: ArchiveWriter;
  /** Parallel-scan segments the work is cut into. Default 4. */
  totalSegments?: number;
  /** Segments worked on at once. Default: all of them. */
  concurrency?: number;
  asOf?: Date | number;
  tombstones?: boolean;
  /** How long one unit runs before its cursor is saved. Default 5 s. */
  stepMs?: number;
  /** Records per target `write` (see {@link CompactSegmentOptions.batchSize}). Default 500. */
  batchSize?: number;
  /**
   * Where progress is kept, so that an interrupted compaction resumes where it stopped: `load` once at the start,
   * `save` after each unit (one at a time, in order).
   */
  checkpoint?: {
    load(): Promise<CompactCheckpoint | undefined> | CompactCheckpoint | undefined;
    save(checkpoint: CompactCheckpoint): Promise<void> | void;
  };
}

/**
 * Turns an ALL archive into a LATEST one (or into the LATEST state as of a time): the offline form of Kafka's
 * log compaction. The work is `totalSegments` units ({@link compactSegment}) run `concurrency` at a time,
 * resumable from a checkpoint, idempotent (run it twice: the same table).
 *
 * @example
 * ```ts
 * const source = new ArchiveReader({ dynamodb, tableName: 'orders-archive-ALL', mode: 'ALL' });
 * const target = new ArchiveWriter({ dynamodb, tableName: 'orders-archive-LATEST', mode: 'LATEST' });
 * const stats = await compact({ source, target, totalSegments: 8 });
 * ```
 * @throws {@link CompactWriteError} when a target write fails: progress up to then is saved.
 */
export async function compact(options: CompactOptions): Promise<CompactStats> {
  const totalSegments = options.totalSegments ?? 4;
  if (!Number.isInteger(totalSegments) || totalSegments < 1 || totalSegments > 1_000_000) {
    throw new InvalidArchiveOptionError('totalSegments', totalSegments, 'an integer from 1 to 1,000,000');
  }
  const loaded = await options.checkpoint?.load();
  if (loaded && loaded.totalSegments !== totalSegments) {
    throw new InvalidArchiveOptionError(
      'checkpoint',
      loaded.totalSegments,
      `a checkpoint of ${totalSegments} segments (it was saved for another split)`,
    );
  }
  const state: CompactCheckpoint = loaded ?? {
    totalSegments,
    segments: Array.from({ length: totalSegments }, () => null),
  };
  const stats = emptyStats();
  /** The first fatal error of any unit. */
  let failure: unknown;
  let saving: Promise<void> = Promise.resolve();
  const save = (): Promise<void> => {
    const snapshot: CompactCheckpoint = { totalSegments, segments: [...state.segments] };
    saving = saving.then(() => options.checkpoint?.save(snapshot));
    return saving;
  };
  const runSegment = async (segment: number): Promise<void> => {
    let at = state.segments[segment];
    // a fatal error elsewhere stops this unit too, at its next step
    while (at !== 'done' && failure === undefined) {
      const step = await compactSegment({
        source: options.source,
        target: options.target,
        segment,
        totalSegments,
        cursor: at ?? undefined,
        budgetMs: options.stepMs ?? 5_000,
        asOf: options.asOf,
        tombstones: options.tombstones,
        batchSize: options.batchSize,
      });
      addStats(stats, step.stats);
      at = step.done ? 'done' : (step.cursor ?? null);
      state.segments[segment] = at;
      await save();
    }
  };
  const queue = state.segments.map((_, i) => i).filter((i) => state.segments[i] !== 'done');
  const workers = Math.min(options.concurrency ?? totalSegments, queue.length);
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (failure === undefined) {
        const segment = queue.shift();
        if (segment === undefined) return;
        try {
          await runSegment(segment);
        } catch (error) {
          failure ??= error;
        }
      }
    }),
  );
  await saving;
  if (failure !== undefined) throw failure;
  return stats;
}
