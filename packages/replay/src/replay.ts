import { forEachLimit } from '@kinesis-archive/core';
import {
  CheckpointSaver,
  type CheckpointStore,
  checkLoadedCheckpoint,
  type ReplayCheckpoint,
} from './checkpoint.js';
import { UnitCursor } from './cursor.js';
import { InvalidReplayOptionError, ReplayCallbackError, ReplayFailedError } from './errors.js';
import { type FailureJournal, MemoryFailureJournal } from './journal.js';
import { ProgressReporter, type ReplayProgress } from './progress.js';
import type { ReplayResult } from './result.js';
import { runJournal, runUnit, type UnitContext } from './run-unit.js';
import { blockJournaledKeys, maxUnsettledOf, openTarget, type ReplayTargetOptions } from './target.js';
import type { ReplaySource } from './types.js';
import { planUnits, type SourceOptions } from './units.js';

/** Failures kept in a checkpoint when no journal is given: entries, and payload bytes (base64). */
export const CHECKPOINT_FAILURE_LIMITS = { maxEntries: 100, maxBytes: 256 * 1024 } as const;
/** Failures kept in memory when neither a journal nor a checkpoint is given. */
export const MEMORY_FAILURE_LIMITS = { maxEntries: 1_000, maxBytes: 8 * 1_048_576 } as const;

/** Options of {@link replay}. Give `streamName` or `streamARN`. */
export interface ReplayOptions extends SourceOptions, ReplayTargetOptions {
  /** An `ArchiveReader` (read with `query` or `scan`) or any (async) iterable of records. */
  source: ReplaySource;
  /** Scan segments run at once in this process (archive scans over `totalSegments` without `segment`). Default: all. */
  segmentConcurrency?: number | undefined;
  /** At most this many records are read in this run, over every segment (`scan.limit`, if given, counts the same). */
  limit?: number | undefined;
  /** Send the records of the failure journal again first, in journal order; those sent leave the journal. */
  retryFailed?: boolean | undefined;
  /** Progress callback, called at most every `progressIntervalMs` and once at the end. A throw stops the replay. */
  onProgress?: ((progress: ReplayProgress) => void) | undefined;
  /** Least time between two progress calls. Default 1,000 ms. */
  progressIntervalMs?: number | undefined;
  /** Records expected (for the progress `eta`). */
  total?: number | undefined;
  /** Where to load and save the cursors (and, without a journal, the failures), to resume a replay that stopped. */
  checkpoint?: CheckpointStore | undefined;
  /** Reject with {@link ReplayFailedError} (carrying the result) when the result is not `ok` (aborts aside). */
  throwOnFailure?: boolean | undefined;
}

/**
 * Replays an archive (or any record source) into a Kinesis stream: per-key order kept, partial failures retried,
 * per-shard rate limits, optional KPL aggregation, resumable cursors, a failure journal, segments, dry run and
 * abort.
 *
 * The source is cut into units of work (each scan segment, a query, an iterable), each with a cursor in the
 * source's own terms that passes a record only once Kinesis acknowledged it or the failure journal stored it.
 * A fatal error (a request refused for every record, the journal failing, the source failing, a callback
 * throwing) stops the replay at once; the promise still resolves, with `ok: false` and `stoppedBy`, so that the
 * cursors, the journal and the counts are never lost. It rejects only for invalid options and a checkpoint that
 * does not fit (before anything is sent), and with `throwOnFailure`.
 *
 * @example
 * ```ts
 * const reader = new ArchiveReader({ dynamodb, tableName: 'orders-archive-ALL', mode: 'ALL' });
 * const result = await replay({ source: reader, kinesis, streamName: 'orders-rebuild', totalSegments: 4 });
 * if (!result.ok) console.error(result.stoppedBy ?? result.failed);
 * ```
 */
export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const started = Date.now();
  if (!options || typeof options !== 'object')
    throw new InvalidReplayOptionError('options', options, 'an object');
  if (!options.streamName && !options.streamARN) {
    throw new InvalidReplayOptionError('streamName', undefined, 'streamName or streamARN');
  }
  const units = planUnits(options.source, options);
  const concurrency = options.segmentConcurrency ?? units.length;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new InvalidReplayOptionError('segmentConcurrency', concurrency, 'an integer >= 1');
  }
  const scanLimit = (options.scan as { limit?: number } | undefined)?.limit;
  const limit = options.limit ?? scanLimit ?? Number.POSITIVE_INFINITY;
  const maxUnsettled = maxUnsettledOf(options);
  if (limit !== Number.POSITIVE_INFINITY && (!Number.isInteger(limit) || limit < 0)) {
    throw new InvalidReplayOptionError('limit', limit, 'an integer >= 0');
  }
  const store = options.dryRun ? undefined : options.checkpoint;
  const loaded = options.checkpoint ? await options.checkpoint.load() : undefined;
  const saved =
    loaded === undefined || loaded === null
      ? undefined
      : checkLoadedCheckpoint(
          loaded,
          units.map((u) => u.name),
        );
  const ownJournal = options.journal === undefined;
  const journal: FailureJournal =
    options.journal ??
    new MemoryFailureJournal(
      options.checkpoint ? CHECKPOINT_FAILURE_LIMITS : MEMORY_FAILURE_LIMITS,
      saved?.failures ?? [],
    );

  let saver: CheckpointSaver | undefined;
  const cursors = units.map((u) => new UnitCursor(u.name, saved?.units[u.name], () => saver?.request()));
  const snapshot = (): ReplayCheckpoint => {
    const state: ReplayCheckpoint = { version: 2, units: {} };
    for (const c of cursors) state.units[c.name] = c.cursor;
    if (ownJournal) state.failures = (journal as MemoryFailureJournal).entries;
    return state;
  };

  const progress = new ProgressReporter(
    options.onProgress,
    options.progressIntervalMs ?? 1_000,
    options.total,
  );
  let stopOnError: (error: Error) => void = () => {};
  const report = (final = false) => {
    try {
      progress.report(counts(), final);
    } catch (error) {
      stopOnError(new ReplayCallbackError(error));
    }
  };
  const { sink, maxRecordBytes, release } = await openTarget(options, journal, {
    onJournalChange: () => saver?.request(),
    onProgress: () => report(),
  });
  const counts = () => ({
    read: sink.counts.read,
    sent: sink.counts.sent,
    failed: sink.counts.failed,
    retries: sink.writerStats.retries,
  });
  stopOnError = (error) => sink.stop(error);
  saver = new CheckpointSaver(store, snapshot, (error) => sink.stop(error as Error));

  const ctx: UnitContext = {
    sink,
    maxRecordBytes,
    envelope: options.envelope === true,
    budget: { remaining: limit },
    maxUnsettled,
  };
  let retried = 0;
  try {
    const blocking =
      !options.dryRun && (options.ordered ?? true) && (options.onKeyFailure ?? 'block') === 'block';
    if (options.retryFailed && !options.dryRun) {
      const before = sink.counts.sent;
      await runJournal(journal, ctx);
      await sink.settleAll(); // every journal record settled before a record of the source goes
      retried = sink.counts.sent - before;
    }
    // keys with a record still in the journal stay blocked: their later records must not pass it
    if (blocking && !sink.signal.aborted) await blockJournaledKeys(sink, journal);
    await forEachLimit(
      units.map((u, i) => ({ u, cursor: cursors[i]! })),
      concurrency,
      ({ u, cursor }) => runUnit(u, cursor, ctx),
    );
  } catch (error) {
    sink.stop(error as Error);
  } finally {
    await sink.close();
    release();
    saver.request(); // the final state (cursors done, journal)
    await saver.drain();
  }

  let failed: ReplayResult['failed'] = [];
  try {
    failed = await listFailures(journal);
  } catch (error) {
    sink.stop(error as Error);
  }
  const stats = sink.writerStats;
  const aborted = options.signal?.aborted === true;
  const unsent = cursors.flatMap((c) => c.unsettled());
  const result: ReplayResult = {
    ok: false,
    read: sink.counts.read,
    sent: sink.counts.sent,
    kinesisRecords: stats.kinesisRecords,
    retries: stats.retries,
    resent: stats.resent,
    failed,
    journaled: sink.counts.failed,
    retriedFromJournal: retried,
    unsent,
    skipped: units.reduce((n, u) => n + u.skipped, 0),
    aborted,
    cursors: Object.fromEntries(cursors.map((c) => [c.name, c.cursor])),
    elapsedMs: 0,
  };
  report(true);
  if (sink.stoppedBy) result.stoppedBy = sink.stoppedBy;
  result.ok = failed.length === 0 && unsent.length === 0 && !aborted && !result.stoppedBy;
  result.elapsedMs = Date.now() - started;
  if (options.throwOnFailure && !result.ok && !aborted) throw new ReplayFailedError(result);
  return result;
}

/** The journal's entries, without payloads. */
export async function listFailures(journal: FailureJournal): Promise<ReplayResult['failed']> {
  const out: ReplayResult['failed'] = [];
  for await (const e of journal.list()) {
    const f: ReplayResult['failed'][number] = {
      id: e.id,
      record: { partitionKey: e.record.partitionKey },
      error: { ...e.error },
    };
    if (e.record.sequenceNumber !== undefined) f.record.sequenceNumber = e.record.sequenceNumber;
    if (e.record.subSequenceNumber !== undefined) f.record.subSequenceNumber = e.record.subSequenceNumber;
    if (e.blockedBy !== undefined) f.blockedBy = e.blockedBy;
    out.push(f);
  }
  return out;
}
