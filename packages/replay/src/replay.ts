import { ShardMap } from '@kinesis-archive/agg';
import {
  type CheckpointStore,
  CheckpointTracker,
  checkLoadedCheckpoint,
  verifyCheckpoint,
} from './checkpoint.js';
import { wrapEnvelope } from './envelope.js';
import { CheckpointMismatchError, InvalidReplayOptionError, ReplayFailedError } from './errors.js';
import { KinesisWriter, type KinesisWriterOptions } from './kinesis-writer.js';
import { ProgressReporter, type ReplayProgress } from './progress.js';
import { type RateLimit, ShardRateLimiter } from './rate-limiter.js';
import type { ReplayResult } from './result.js';
import { type Item, ShardAggregation, type Unit } from './shard-aggregation.js';
import { openSource, type SourceOptions } from './source.js';
import type { KinesisClientLike, ReplayFailure, ReplaySource } from './types.js';
import { type CheckedRecord, checkRecord, DEFAULT_MAX_RECORD_BYTES } from './validate.js';

const DEFAULT_AGGREGATE_MAX_AGE_MS = 1_000;

/** Options of {@link replay}. Give `streamName` or `streamARN`. */
export interface ReplayOptions extends SourceOptions {
  /** An `ArchiveReader` (read with `query` or `scan`) or any (async) iterable of records. */
  source: ReplaySource;
  /** Your configured Kinesis client (AWS SDK v3). */
  kinesis: KinesisClientLike;
  /** The target stream's name. */
  streamName?: string | undefined;
  /** The target stream's ARN. */
  streamARN?: string | undefined;
  /** Keep each partition key's order (default `true`); see {@link KinesisWriterOptions.ordered}. */
  ordered?: boolean | undefined;
  /** Pack user records into KPL aggregates, per shard (default `false`). */
  aggregate?: boolean | undefined;
  /**
   * With `aggregate`: the longest a record waits in an aggregate that is not full before every held record is
   * sent anyway, in ms (checked as records are read). Default 1,000. Without it, a shard that gets few records
   * would hold its first one until the end, and the checkpoint could not move past it.
   */
  aggregateMaxAgeMs?: number | undefined;
  /** Per-shard limits (default 1,000 records/s and 1 MiB/s per shard), or `false` for none. */
  rateLimit?: RateLimit | false | undefined;
  /** The target stream's shard map; loaded with `ListShards` when needed (rate limits, aggregation) and not given. */
  shardMap?: ShardMap | undefined;
  /** Send each record wrapped in the metadata envelope (see `wrapEnvelope`). Default `false`. */
  envelope?: boolean | undefined;
  /** Read, check and count; send nothing. */
  dryRun?: boolean | undefined;
  /** Stops the replay cleanly: no new request is sent, requests in flight complete, the checkpoint is saved. */
  signal?: AbortSignal | undefined;
  /** Progress callback, called at most every `progressIntervalMs` and once at the end. */
  onProgress?: ((progress: ReplayProgress) => void) | undefined;
  /** Least time between two progress calls. Default 1,000 ms. */
  progressIntervalMs?: number | undefined;
  /** Records expected (for the progress `eta`). */
  total?: number | undefined;
  /** Where to load and save the position, to resume a replay that stopped. */
  checkpoint?: CheckpointStore | undefined;
  /** Reject with {@link ReplayFailedError} (carrying the result) when a record failed. Default `false`. */
  throwOnFailure?: boolean | undefined;
  /** Tuning of the {@link KinesisWriter} (concurrency, batch limits, retries). */
  writer?:
    | Pick<
        KinesisWriterOptions,
        | 'concurrency'
        | 'maxBatchRecords'
        | 'maxBatchBytes'
        | 'maxRecordBytes'
        | 'maxBufferedRecords'
        | 'lingerMs'
        | 'retry'
      >
    | undefined;
}

/**
 * Replays an archive (or any record source) into a Kinesis stream: per-key order kept, partial failures retried,
 * per-shard rate limits, optional KPL aggregation, checkpoints, segments, dry run and abort.
 *
 * The promise resolves with a {@link ReplayResult}; `result.ok` is `false` when a record failed (listed in
 * `result.failed` with its error) or the replay was aborted. With `throwOnFailure: true` it rejects with
 * {@link ReplayFailedError} instead when a record failed. It rejects when the source or a checkpoint save fails
 * (after waiting for the requests in flight).
 *
 * @example
 * ```ts
 * const reader = new ArchiveReader({ dynamodb, tableName: 'orders-archive-ALL', mode: 'ALL' });
 * const result = await replay({ source: reader, kinesis, streamName: 'orders-rebuild' });
 * if (!result.ok) console.error(result.failed);
 * ```
 */
export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const started = Date.now();
  if (!options || typeof options !== 'object')
    throw new InvalidReplayOptionError('options', options, 'an object');
  const stream = options.streamARN
    ? { streamARN: options.streamARN }
    : options.streamName
      ? { streamName: options.streamName }
      : undefined;
  if (!stream) throw new InvalidReplayOptionError('streamName', undefined, 'streamName or streamARN');
  const opened = openSource(options.source, options);
  const dryRun = options.dryRun === true;
  const maxRecordBytes = options.writer?.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;

  const start = (await options.checkpoint?.load()) ?? undefined;
  if (start) checkLoadedCheckpoint(start);
  const startPosition = start?.position ?? 0;
  const tracker = new CheckpointTracker(dryRun ? undefined : options.checkpoint, start);

  const maxAgeMs = options.aggregateMaxAgeMs ?? DEFAULT_AGGREGATE_MAX_AGE_MS;
  if (typeof maxAgeMs !== 'number' || !(maxAgeMs >= 0)) {
    throw new InvalidReplayOptionError('aggregateMaxAgeMs', maxAgeMs, 'a number of ms >= 0');
  }
  const needsMap = !dryRun && (options.aggregate === true || options.rateLimit !== false);
  const shardMap = options.shardMap ?? (needsMap ? await ShardMap.load(options.kinesis, stream) : undefined);
  const limiter =
    options.rateLimit === false || dryRun
      ? undefined
      : new ShardRateLimiter(options.rateLimit ?? {}, shardMap);

  const failed: ReplayFailure[] = [];
  let read = 0;
  let sent = 0;
  let skipped = 0;
  const fail = (item: Item, error: Error) => {
    failed.push({ record: item.record, error });
    tracker.settle(item.position, item.record);
  };

  const progress = new ProgressReporter(
    options.onProgress,
    options.progressIntervalMs ?? 1_000,
    options.total,
  );
  const counts = () => ({ read, sent, failed: failed.length, retries: writer?.stats.retries ?? 0 });

  const internal = new AbortController();
  const onAbort = () => internal.abort(options.signal?.reason);
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  const writer = dryRun
    ? undefined
    : new KinesisWriter<Unit>({
        ...options.writer,
        kinesis: options.kinesis,
        ...stream,
        ordered: options.ordered ?? true,
        rateLimiter: limiter,
        signal: internal.signal,
        onSent: (unit, info) => {
          aggregation?.acknowledged(unit, info.shardId);
          for (const item of unit.items) {
            sent++;
            tracker.settle(item.position, item.record);
          }
          progress.report(counts());
        },
        onFailed: (unit, error) => {
          for (const item of unit.items) fail(item, error);
        },
      });
  const aggregation =
    options.aggregate && !dryRun && shardMap
      ? new ShardAggregation(shardMap, maxRecordBytes, maxAgeMs)
      : undefined;
  const putUnits = async (units: Unit[]) => {
    for (const unit of units) await writer!.put(unit);
  };

  let sourceError: { error: unknown } | undefined;
  try {
    let position = 0;
    for await (const record of opened.records) {
      if (internal.signal.aborted) break;
      const pos = position++;
      if (pos < startPosition) {
        if (pos === startPosition - 1 && start) verifyCheckpoint(start, record);
        skipped++;
        continue;
      }
      if (tracker.wasDone(pos)) {
        tracker.settle(pos, record);
        skipped++;
        continue;
      }
      if (!opened.inSegment(record)) {
        tracker.settle(pos, record);
        continue;
      }
      read++;
      const item: Item = { position: pos, record };
      let checked: CheckedRecord;
      try {
        checked = checkRecord(record, pos, maxRecordBytes);
        if (options.envelope) {
          const data = wrapEnvelope(record, checked.data);
          checked = checkRecord({ ...checked, data }, pos, maxRecordBytes);
        }
      } catch (error) {
        fail(item, error as Error);
        continue;
      }
      if (dryRun) {
        tracker.settle(pos, record);
      } else if (aggregation) {
        await putUnits(await aggregation.due());
        let units: Unit[];
        try {
          units = aggregation.add(item, checked);
        } catch (error) {
          fail(item, error as Error);
          continue;
        }
        await putUnits(units);
      } else {
        await writer!.put({
          partitionKey: checked.partitionKey,
          data: checked.data,
          explicitHashKey: checked.explicitHashKey,
          orderingKeys: [checked.partitionKey],
          items: [item],
        });
      }
      progress.report(counts());
    }
    if (position < startPosition && !internal.signal.aborted) {
      // The source ended before the checkpoint position: it is not the source the checkpoint was saved for.
      throw new CheckpointMismatchError(startPosition, start?.last, null);
    }
    if (aggregation && !internal.signal.aborted) await putUnits(await aggregation.flush());
  } catch (error) {
    if (!internal.signal.aborted || !isAbortError(error)) {
      sourceError = { error };
      internal.abort(error);
    }
  }
  let stats: Awaited<ReturnType<KinesisWriter<Unit>['close']>> | undefined;
  try {
    // The signal still stops the writer while it sends what it buffered.
    stats = writer ? await writer.close() : undefined;
    await tracker.drain();
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (sourceError) throw sourceError.error;

  const aborted = internal.signal.aborted;
  const result: ReplayResult = {
    ok: failed.length === 0 && !aborted,
    read,
    sent,
    kinesisRecords: stats?.sent ?? 0,
    retries: stats?.retries ?? 0,
    failed,
    skipped,
    aborted,
    elapsedMs: Date.now() - started,
  };
  progress.report(counts(), true);
  if (options.throwOnFailure && failed.length > 0) throw new ReplayFailedError(result);
  return result;
}

function isAbortError(error: unknown): boolean {
  return (error as { code?: unknown })?.code === 'ABORTED';
}
