import { type ReplayCursor, UnitCursor } from './cursor.js';
import { InvalidReplayOptionError } from './errors.js';
import type { FailureJournal } from './journal.js';
import { runUnit } from './run-unit.js';
import { blockJournaledKeys, maxUnsettledOf, openTarget, type ReplayTargetOptions } from './target.js';
import type { ArchiveReaderLike, ArchiveScanOptions } from './types.js';
import { checkKeyPrefix, isArchiveReader, scanUnit } from './units.js';

/** Options of {@link replaySegment}. */
export interface ReplaySegmentOptions extends Omit<ReplayTargetOptions, 'journal'> {
  /** The archive to read (an `ArchiveReader`). */
  source: ArchiveReaderLike;
  /** The scan's options (time range, tombstones). */
  scan?: Omit<ArchiveScanOptions, 'segment' | 'totalSegments' | 'startAfter' | 'limit'> | undefined;
  /** Replay only the records whose partition key starts with this prefix (the others are read and skipped). */
  keyPrefix?: string | undefined;
  /** This unit's segment, `0 .. totalSegments-1`. */
  segment: number;
  /** Segments the archive is split into. */
  totalSegments: number;
  /** Where the segment stands (from the last call's result); absent: from the start. */
  cursor?: ReplayCursor | undefined;
  /** Stop reading after this many ms (what is in flight is still settled before it returns). Default: no budget. */
  budgetMs?: number | undefined;
  /** At most this many records in this call. */
  limit?: number | undefined;
  /** Where failed records go, durably, before the cursor passes them. Required: the unit keeps no state of its own. */
  journal: FailureJournal;
}

/** Counts of one {@link replaySegment} call: plain JSON. */
export interface SegmentStats {
  read: number;
  sent: number;
  /** Records journaled in this call. */
  journaled: number;
  kinesisRecords: number;
  retries: number;
  resent: number;
  /** Records read and not settled (the call was aborted or stopped): the cursor is before them. */
  unsent: number;
  /** Why the call stopped early, if it did (a fatal error): `{ code, message }`. */
  stoppedBy?: { code: string; message: string } | undefined;
  /** `true` when the call's signal fired. */
  aborted: boolean;
  elapsedMs: number;
}

/** What {@link replaySegment} returns: plain JSON, to pass to the next call (through Step Functions state, a file). */
export interface ReplaySegmentResult {
  /** Where the segment stands now. */
  cursor: ReplayCursor;
  /** `true` once the segment was read to its end and every record of it settled. */
  done: boolean;
  stats: SegmentStats;
}

/**
 * Replays one scan segment of an archive, from its cursor, until the segment is done, its time budget is used
 * up, or a fatal error; returns the new cursor. The unit of work of a distributed replay: it depends only on its
 * arguments and the stores it is given (the archive, the journal, the stream), its cursor passes a record only once
 * Kinesis acknowledged it or the journal stored it, and its result survives a JSON round trip. `replay()` runs the
 * same unit for every segment of a source in one process.
 *
 * Call it again with the returned cursor while `done` is `false`. A fatal error does not throw: it is in
 * `stats.stoppedBy`, with a cursor before the first record not settled (save it; retry later).
 *
 * @example
 * ```ts
 * let cursor: ReplayCursor | undefined;
 * do {
 *   const out = await replaySegment({ source: reader, segment: 3, totalSegments: 16, cursor, budgetMs: 60_000, kinesis, streamName, journal });
 *   if (out.stats.stoppedBy) throw new Error(out.stats.stoppedBy.message);
 *   cursor = out.cursor;
 *   if (out.done) break;
 * } while (true);
 * ```
 */
export async function replaySegment(options: ReplaySegmentOptions): Promise<ReplaySegmentResult> {
  const started = Date.now();
  if (!isArchiveReader(options.source)) {
    throw new InvalidReplayOptionError(
      'source',
      typeof options.source,
      'an ArchiveReader (scan and query methods)',
    );
  }
  const { segment, totalSegments } = options;
  if (!Number.isInteger(totalSegments) || totalSegments < 1) {
    throw new InvalidReplayOptionError('totalSegments', totalSegments, 'an integer >= 1');
  }
  if (!Number.isInteger(segment) || segment < 0 || segment >= totalSegments) {
    throw new InvalidReplayOptionError('segment', segment, `an integer in 0..${totalSegments - 1}`);
  }
  if (options.budgetMs !== undefined && !(options.budgetMs > 0)) {
    throw new InvalidReplayOptionError('budgetMs', options.budgetMs, 'a number of ms > 0');
  }
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const maxUnsettled = maxUnsettledOf(options);
  if (limit !== Number.POSITIVE_INFINITY && (!Number.isInteger(limit) || limit < 0)) {
    throw new InvalidReplayOptionError('limit', limit, 'an integer >= 0');
  }
  if (!options.journal || typeof options.journal.append !== 'function') {
    throw new InvalidReplayOptionError('journal', options.journal, 'a FailureJournal');
  }
  if (options.cursor !== undefined && typeof options.cursor?.done !== 'boolean') {
    throw new InvalidReplayOptionError(
      'cursor',
      JSON.stringify(options.cursor),
      'a cursor a replaySegment returned',
    );
  }
  checkKeyPrefix(options.keyPrefix);
  const unit = scanUnit(options.source, options.scan ?? {}, segment, totalSegments, options.keyPrefix);
  const cursor = new UnitCursor(unit.name, options.cursor);
  const { sink, maxRecordBytes, release } = await openTarget(options, options.journal, {});
  try {
    if (!options.dryRun && (options.ordered ?? true) && (options.onKeyFailure ?? 'block') === 'block') {
      await blockJournaledKeys(sink, options.journal);
    }
    await runUnit(unit, cursor, {
      sink,
      maxRecordBytes,
      envelope: options.envelope === true,
      deadline: options.budgetMs === undefined ? undefined : started + options.budgetMs,
      budget: { remaining: limit },
      maxUnsettled,
    });
  } catch (error) {
    sink.stop(error as Error);
  } finally {
    await sink.close();
    release();
  }
  const w = sink.writerStats;
  const stats: SegmentStats = {
    read: sink.counts.read,
    sent: sink.counts.sent,
    journaled: sink.counts.failed,
    kinesisRecords: w.kinesisRecords,
    retries: w.retries,
    resent: w.resent,
    unsent: cursor.unsettled().length,
    aborted: options.signal?.aborted === true,
    elapsedMs: Date.now() - started,
  };
  const stopped = sink.stoppedBy;
  if (stopped) {
    stats.stoppedBy = {
      code: String((stopped as { code?: unknown }).code ?? stopped.name),
      message: stopped.message,
    };
  }
  return { cursor: cursor.cursor, done: cursor.done, stats };
}
