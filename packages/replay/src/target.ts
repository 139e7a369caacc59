import { ShardMap } from '@kinesis-archive/agg';
import { InvalidReplayOptionError } from './errors.js';
import type { FailureJournal } from './journal.js';
import { type RateLimit, ShardRateLimiter } from './rate-limiter.js';
import { Sink, type WriterTuning } from './sink.js';
import type { KinesisClientLike } from './types.js';
import { DEFAULT_MAX_RECORD_BYTES } from './validate.js';

const DEFAULT_AGGREGATE_MAX_AGE_MS = 1_000;
/** Default read window of a unit (records read and not settled). */
const DEFAULT_MAX_UNSETTLED = 2_000;
/** Default writer buffer of a replay (the window above holds the rest). */
const DEFAULT_REPLAY_BUFFER = 1_000;

/** Where and how records are sent: the options `replay` and `replaySegment` share. */
export interface ReplayTargetOptions {
  /** Your configured Kinesis client (AWS SDK v3). */
  kinesis: KinesisClientLike;
  /** The target stream's name. */
  streamName?: string | undefined;
  /** The target stream's ARN. */
  streamARN?: string | undefined;
  /** Keep each partition key's order (default `true`): a record waits while an earlier one of its key is unacknowledged. */
  ordered?: boolean | undefined;
  /**
   * With `ordered`: once a record of a key failed for good, `'block'` (default) journals the key's later records
   * as blocked (`KEY_BLOCKED`) instead of sending them, so that the key's history in the stream has no hole;
   * `'continue'` sends them. Keys with a record in the journal stay blocked in later runs, until `retryFailed`
   * sent it.
   */
  onKeyFailure?: 'block' | 'continue' | undefined;
  /** Pack user records into KPL aggregates, per shard (default `false`). */
  aggregate?: boolean | undefined;
  /**
   * With `aggregate`: the longest a record waits in an aggregate that is not full before every held record is
   * sent anyway, in ms (checked as records are read). Default 1,000, so the cursor is never held long by a sparse shard.
   */
  aggregateMaxAgeMs?: number | undefined;
  /** Per-shard limits (default 1,000 records/s and 1 MiB/s per shard), or `false` for none. */
  rateLimit?: RateLimit | false | undefined;
  /**
   * Processes (or Step Functions children) replaying into this stream at once: each takes `1/workers` of each
   * shard's limit. Default 1.
   */
  workers?: number | undefined;
  /** The target stream's shard map; loaded with `ListShards` when needed (rate limits, aggregation) and not given. */
  shardMap?: ShardMap | undefined;
  /** Send each record wrapped in the metadata envelope (see `wrapEnvelope`). Default `false`. */
  envelope?: boolean | undefined;
  /** Read, check and count; send nothing. */
  dryRun?: boolean | undefined;
  /**
   * Stops the replay cleanly: nothing more is read or sent, requests in flight complete, cursors stay before the
   * first unsent record (listed in `unsent`).
   */
  signal?: AbortSignal | undefined;
  /**
   * Where records that failed for good are kept, with their payloads, before a cursor passes them
   * (`FileFailureJournal`, `DynamoDBFailureJournal`, your own). Without one, they are kept in memory, bounded, and
   * in the checkpoint when there is one (see the README: beyond the bound the replay stops rather than lose one).
   */
  journal?: FailureJournal | undefined;
  /** Tuning of the {@link KinesisWriter} (concurrency, batch limits, retries). */
  writer?: WriterTuning | undefined;
  /**
   * Most records of one unit read and not settled yet; reading waits for room beyond it. It bounds the memory a
   * stalled record (retrying) costs, and the records a crash makes a resume send again. Default 2,000 (the
   * writer's 4 requests of 500 in flight); the writer's own buffer defaults to 1,000 in a replay. With `aggregate`,
   * the records held for aggregation are sent once they fill the window, so it also bounds an aggregate's size.
   */
  maxUnsettledRecords?: number | undefined;
}

/** Checks `maxUnsettledRecords`. */
export function maxUnsettledOf(options: ReplayTargetOptions): number {
  const max = options.maxUnsettledRecords ?? DEFAULT_MAX_UNSETTLED;
  if (!Number.isInteger(max) || max < 1)
    throw new InvalidReplayOptionError('maxUnsettledRecords', max, 'an integer >= 1');
  return max;
}

/** The sink of a replay, set up from its options: the stream, the shard map, the rate limits, the aggregation. */
export async function openTarget(
  options: ReplayTargetOptions,
  journal: FailureJournal,
  hooks: { onJournalChange?: () => void; onProgress?: () => void },
): Promise<{ sink: Sink; maxRecordBytes: number; release: () => void }> {
  const stream = options.streamARN
    ? { streamARN: options.streamARN }
    : options.streamName
      ? { streamName: options.streamName }
      : undefined;
  if (!stream) throw new InvalidReplayOptionError('streamName', undefined, 'streamName or streamARN');
  if (!options.kinesis || typeof options.kinesis.send !== 'function') {
    throw new InvalidReplayOptionError('kinesis', options.kinesis, 'an AWS SDK v3 KinesisClient');
  }
  const dryRun = options.dryRun === true;
  const maxRecordBytes = options.writer?.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const maxAgeMs = options.aggregateMaxAgeMs ?? DEFAULT_AGGREGATE_MAX_AGE_MS;
  if (typeof maxAgeMs !== 'number' || !(maxAgeMs >= 0)) {
    throw new InvalidReplayOptionError('aggregateMaxAgeMs', maxAgeMs, 'a number of ms >= 0');
  }
  const workers = options.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) {
    throw new InvalidReplayOptionError('workers', workers, 'an integer >= 1');
  }
  const onKeyFailure = options.onKeyFailure ?? 'block';
  if (onKeyFailure !== 'block' && onKeyFailure !== 'continue') {
    throw new InvalidReplayOptionError('onKeyFailure', onKeyFailure, "'block' or 'continue'");
  }
  const needsMap = !dryRun && (options.aggregate === true || options.rateLimit !== false);
  const shardMap = options.shardMap ?? (needsMap ? await ShardMap.load(options.kinesis, stream) : undefined);
  let limiter: ShardRateLimiter | undefined;
  if (options.rateLimit !== false && !dryRun) {
    const limit = options.rateLimit ?? {};
    limiter = new ShardRateLimiter(
      {
        recordsPerSecond: (limit.recordsPerSecond ?? 1_000) / workers,
        bytesPerSecond: (limit.bytesPerSecond ?? 1_048_576) / workers,
      },
      shardMap,
    );
  }
  const sink = new Sink({
    kinesis: options.kinesis,
    stream,
    journal,
    ordered: options.ordered ?? true,
    onKeyFailure,
    dryRun,
    aggregation: options.aggregate && shardMap ? { shardMap, maxRecordBytes, maxAgeMs } : undefined,
    limiter,
    writer: { maxBufferedRecords: DEFAULT_REPLAY_BUFFER, ...options.writer },
    onJournalChange: hooks.onJournalChange,
    onProgress: hooks.onProgress,
  });
  const signal = options.signal;
  let release = () => {};
  if (signal) {
    if (signal.aborted) sink.abort(signal.reason);
    else {
      const onAbort = () => sink.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      release = () => signal.removeEventListener('abort', onAbort);
    }
  }
  return { sink, maxRecordBytes, release };
}

/**
 * Blocks, in the sink, the keys that have a record in the journal (with `onKeyFailure: 'block'`, ordered): a key's
 * later records must not pass a record of it that is still waiting to be sent again.
 */
export async function blockJournaledKeys(sink: Sink, journal: FailureJournal): Promise<number> {
  const keys = new Set<string>();
  for await (const entry of journal.list()) keys.add(entry.record.partitionKey);
  sink.blockKeys(keys);
  return keys.size;
}
