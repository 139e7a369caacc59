/**
 * A local stand-in for Lambda's Kinesis event source mapping: reads a stream with GetRecords and invokes a handler
 * with real Lambda-shaped events, honouring batch size and `batchItemFailures` the way Lambda does.
 *
 * @module
 */
import type { KinesisClient, Shard } from '@aws-sdk/client-kinesis';
import { EventSourceOptionsError } from './event-source/errors.js';
import { ShardReader } from './event-source/shard-reader.js';
import { runShard, type WorkerSettings } from './event-source/shard-worker.js';
import { listAllShards, resolveStream } from './event-source/stream.js';
import type {
  BatchReport,
  EventSourceStats,
  KinesisHandler,
  SkippedBatch,
  StartingPosition,
} from './event-source/types.js';

export {
  EventSourceOptionsError,
  EventSourceRetriesExhaustedError,
  StreamNotFoundError,
} from './event-source/errors.js';
export type {
  BatchReport,
  EventSourceStats,
  HandlerResult,
  InvocationOutcome,
  KinesisHandler,
  LocalLambdaContext,
  ShardStats,
  SkippedBatch,
  StartingPosition,
} from './event-source/types.js';

/** Options of {@link runKinesisEventSource}. */
export interface KinesisEventSourceOptions {
  /** Your configured Kinesis client (for kinesis-mock: with `NodeHttpHandler`). */
  kinesis: KinesisClient;
  /** The stream to read (this or `streamARN`). */
  streamName?: string;
  /** The stream to read, by ARN. */
  streamARN?: string;
  /** The function to invoke. */
  handler: KinesisHandler;
  /** Most records per invocation, 1..10,000. Default 100 (Lambda's default). */
  batchSize?: number;
  /** Where shards that exist at the start are read from. Default `TRIM_HORIZON`. Later shards start at their start. */
  startingPosition?: StartingPosition;
  /**
   * Return once every shard is at its tip with nothing left to deliver (closed shards: read to their end).
   * `true` stops at once; `{ idleMs }` waits that long at the tip first. Default: run until `signal` aborts or
   * every shard is closed and drained.
   */
  stopWhenIdle?: boolean | { idleMs: number };
  /** Stops the run after the invocations in flight. */
  signal?: AbortSignal;
  /** Retries of a failing batch (from the same record) before giving up on it. Default 10. */
  maxRetries?: number;
  /**
   * What to do when `maxRetries` is exhausted: `throw` (default) an `EventSourceRetriesExhaustedError` and stop with
   * the checkpoint before the batch, or `skip` the batch as Lambda does (it lands in `stats.skipped` and `onSkip`).
   */
  onRetriesExhausted?: 'throw' | 'skip';
  /** First retry delay cap, in ms (full-jitter exponential backoff). Default 100. */
  retryBaseDelayMs?: number;
  /** Wait between GetRecords calls of a shard that returned nothing, in ms. Default 250. */
  pollIntervalMs?: number;
  /** GetRecords `Limit`. Default `max(batchSize, 1000)` capped at 10,000. */
  getRecordsLimit?: number;
  /** Called after every invocation (e.g. for progress). */
  onBatch?: (report: BatchReport) => void | Promise<void>;
  /** Called for a batch given up on with `onRetriesExhausted: 'skip'` (Lambda's on-failure destination). */
  onSkip?: (batch: SkippedBatch) => void | Promise<void>;
}

function positiveInteger(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new EventSourceOptionsError(`${name} must be an integer from 1 to ${max}, got ${value}`, {
      [name]: value,
    });
  }
  return value;
}

function validate(options: KinesisEventSourceOptions) {
  if (typeof options.handler !== 'function') throw new EventSourceOptionsError('handler must be a function');
  if (!options.streamName && !options.streamARN) {
    throw new EventSourceOptionsError('streamName or streamARN is required');
  }
  const batchSize = positiveInteger('batchSize', options.batchSize ?? 100, 10_000);
  const maxRetries = options.maxRetries ?? 10;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) {
    throw new EventSourceOptionsError(`maxRetries must be a whole number, got ${maxRetries}`);
  }
  const start = options.startingPosition ?? 'TRIM_HORIZON';
  if (
    start !== 'TRIM_HORIZON' &&
    start !== 'LATEST' &&
    !(
      typeof start === 'object' &&
      start.timestamp instanceof Date &&
      !Number.isNaN(start.timestamp.getTime())
    )
  ) {
    throw new EventSourceOptionsError('startingPosition must be TRIM_HORIZON, LATEST or { timestamp: Date }');
  }
  const idle = options.stopWhenIdle;
  const idleMs = idle === true ? 0 : idle && typeof idle === 'object' ? idle.idleMs : undefined;
  if (idleMs !== undefined && !(idleMs >= 0))
    throw new EventSourceOptionsError('stopWhenIdle.idleMs must be >= 0');
  const limit = options.getRecordsLimit ?? Math.min(10_000, Math.max(batchSize, 1000));
  return { batchSize, maxRetries, start, idleMs, limit: positiveInteger('getRecordsLimit', limit, 10_000) };
}

type ShardState = {
  shard: Shard;
  initial: boolean;
  state: 'waiting' | 'running' | 'finished';
  /** Kept across runs of the shard: a shard that stopped idle goes on after its last record when it runs again. */
  reader?: ShardReader;
};

/**
 * Runs a Kinesis handler locally the way Lambda's event source mapping would: lists the shards, reads each with
 * GetRecords (a parent shard is drained before its children), builds Lambda Kinesis events with
 * `toKinesisEventRecord` and invokes `handler` with at most `batchSize` records of one shard at a time, in order.
 *
 * Partial batch responses are honoured exactly: the records before the lowest reported `itemIdentifier` are
 * checkpointed and the next invocation starts at it; a thrown error, an empty or unknown identifier fails the
 * whole batch, which is delivered again. Delivery is at-least-once and in order per shard, with no gaps. After
 * `maxRetries` failed retries from one record the run throws (or skips the batch, if asked).
 *
 * @returns the run's figures: invocations, records, retries and each shard's checkpoint.
 * @throws `EventSourceOptionsError` for bad options, `StreamNotFoundError`, `EventSourceRetriesExhaustedError`.
 *
 * @example
 * ```ts
 * const stats = await runKinesisEventSource({
 *   kinesis, streamName: 'orders', handler, batchSize: 100, stopWhenIdle: true,
 * });
 * console.log(stats.records, stats.shards);
 * ```
 */
export async function runKinesisEventSource(options: KinesisEventSourceOptions): Promise<EventSourceStats> {
  const started = Date.now();
  const { batchSize, maxRetries, start, idleMs, limit } = validate(options);
  const { kinesis } = options;
  const stream = await resolveStream(kinesis, options);
  const internal = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, internal.signal]) : internal.signal;
  const stats: EventSourceStats = {
    invocations: 0,
    records: 0,
    delivered: 0,
    retries: 0,
    partialFailures: 0,
    errors: 0,
    skipped: [],
    shards: {},
    elapsedMs: 0,
  };
  const settings: WorkerSettings = {
    handler: options.handler,
    batchSize,
    maxRetries,
    retryBaseDelayMs: options.retryBaseDelayMs ?? 100,
    pollIntervalMs: options.pollIntervalMs ?? 250,
    idleMs,
    onRetriesExhausted: options.onRetriesExhausted ?? 'throw',
    eventSourceARN: stream.streamARN,
    awsRegion: stream.region,
    signal,
    stats,
    onBatch: options.onBatch,
    onSkip: options.onSkip,
  };
  const known = new Map<string, ShardState>();
  const running = new Map<string, Promise<void>>();
  let failure: { error: unknown } | undefined;

  const refresh = async (initial: boolean) => {
    for (const shard of await listAllShards(kinesis, stream.streamName)) {
      const id = shard.ShardId;
      if (!id || known.has(id)) continue;
      // With LATEST, a shard already closed at the start holds nothing new.
      const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
      const finished = initial && start === 'LATEST' && closed;
      known.set(id, { shard, initial, state: finished ? 'finished' : 'waiting' });
    }
  };
  const isReady = (s: ShardState) =>
    [s.shard.ParentShardId, s.shard.AdjacentParentShardId].every(
      (p) => !p || !known.has(p) || known.get(p)?.state === 'finished',
    );
  const schedule = () => {
    for (const [id, s] of known) {
      if (s.state !== 'waiting' || !isReady(s) || signal.aborted) continue;
      s.state = 'running';
      s.reader ??= new ShardReader(
        kinesis,
        stream.streamName,
        id,
        s.initial ? start : 'TRIM_HORIZON',
        limit,
        signal,
      );
      const reader = s.reader;
      const work = runShard(reader, settings)
        .then(async () => {
          running.delete(id);
          if (stats.shards[id]?.finished) {
            s.state = 'finished';
            if (!signal.aborted) {
              await refresh(false);
              schedule();
            }
          } else {
            s.state = 'waiting';
          }
        })
        .catch((error: unknown) => {
          running.delete(id);
          failure ??= { error };
          internal.abort(error);
        });
      running.set(id, work);
    }
  };

  await refresh(true);
  for (;;) {
    schedule();
    while (running.size > 0) await Promise.race(running.values());
    if (failure || signal.aborted) break;
    // Every worker stopped (idle or finished): look once more for shards that became readable.
    await refresh(false);
    const more = [...known.values()].some(
      (s) => s.state === 'waiting' && isReady(s) && !stats.shards[s.shard.ShardId ?? ''],
    );
    if (!more) break;
  }
  stats.elapsedMs = Date.now() - started;
  if (failure) throw failure.error;
  return stats;
}
