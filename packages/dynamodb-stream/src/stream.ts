import { EventEmitter } from 'node:events';
import {
  type BackoffOptions,
  compareSequenceNumbers,
  isTransientError,
  retry,
  sleep,
} from '@kinesis-archive/core';
import type { CheckpointStore } from './checkpoint-store.js';
import {
  CheckpointConflictError,
  CheckpointSaveError,
  DescribeStreamError,
  ListenerError,
  RecordDecodeError,
} from './errors.js';
import { batchIterator, type ChangeBatch, type PendingBatch } from './iterator.js';
import {
  type DataLossInfo,
  openIterator,
  type ReadContext,
  readShardBatch,
  type ShardCursor,
} from './reader.js';
import { type ChangeRecord, type Image, toChangeRecord, type UnmarshallSetting } from './records.js';
import { cloneShardState, parseShardState, type ShardState } from './shard-state.js';
import { describeShards, readableShards, reconcileShards, type StreamsClient } from './shard-tracker.js';

/** Options of {@link DynamoDBStream}. */
export interface DynamoDBStreamOptions {
  /** A configured SDK v3 `DynamoDBStreamsClient` (anything with its `send`). */
  client: StreamsClient;
  /** The stream's ARN (`LatestStreamArn` of the table). */
  streamArn: string;
  /**
   * Where shards without saved progress begin on the very first start: `TRIM_HORIZON` (default, the oldest record)
   * or `LATEST` (only changes made from now on). Shards found later always begin at `TRIM_HORIZON`.
   */
  startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** State to resume from (from {@link DynamoDBStream.getShardState}); wins over the checkpoint store's. */
  shardState?: ShardState;
  /** Decode images with the SDK's `unmarshall` (`true`, default), with these `unmarshall` options, or not (`false`). */
  unmarshall?: UnmarshallSetting;
  /** Where the state is loaded from before the first poll and saved after each poll that moved it. */
  checkpointStore?: CheckpointStore;
  /** `Limit` of each GetRecords call (1..1000). Default: the service's (1,000). */
  limit?: number;
  /** Backoff for throttled and failed calls (core's `BackoffOptions`). Default: 8 attempts within 30 s. */
  retry?: BackoffOptions;
}

/** Events of {@link DynamoDBStream}. Listeners may be async: the state advances only once they settled. */
export interface DynamoDBStreamEvents {
  /** Every record, before its specific event. */
  record: [record: ChangeRecord];
  /** An item was created. */
  'insert record': [newImage: Image | undefined, keys: Image, record: ChangeRecord];
  /** An item was changed. */
  'modify record': [
    newImage: Image | undefined,
    oldImage: Image | undefined,
    keys: Image,
    record: ChangeRecord,
  ];
  /** An item was deleted (by a user or by TTL: see `record.ttlDelete`). */
  'remove record': [oldImage: Image | undefined, keys: Image, record: ChangeRecord];
  /** Shards seen for the first time. */
  'new shards': [shardIds: string[]];
  /** Shards retired: drained to their end, or vanished. */
  'remove shards': [shardIds: string[]];
  /** The state after a poll (or an acknowledged batch) moved it; saved already when a store is set. */
  checkpoint: [state: ShardState];
  /** Records could not be read (trimmed past retention, or the shard vanished). */
  'data loss': [info: DataLossInfo];
  /** A failure; the consumer goes on (the failed shard is read again on the next poll). */
  error: [error: Error];
}

/** Options of {@link DynamoDBStream.start} and {@link DynamoDBStream.batches}. */
export interface PollOptions {
  /** Pause after a poll that found no record, in ms. Default 1,000. */
  pollIntervalMs?: number;
}

type Deliver = (shardId: string, changes: ChangeRecord[], atEnd: boolean) => Promise<number>;
type Listener = (...args: unknown[]) => unknown;

/**
 * A DynamoDB Streams consumer that never loses or reorders a change: shard state of sequence numbers (not
 * iterators), parents drained before children, paginated DescribeStream, per-shard error handling, async listeners,
 * checkpoints and an async iterator of batches.
 *
 * @example
 * ```ts
 * const stream = new DynamoDBStream({ client: new DynamoDBStreamsClient({}), streamArn });
 * stream.on('insert record', async (item) => { await copy.put(item); });
 * stream.on('error', (err) => console.error(err));
 * stream.start({ pollIntervalMs: 1000 });
 * // ...
 * await stream.stop();
 * ```
 */
export class DynamoDBStream extends EventEmitter<DynamoDBStreamEvents> {
  private readonly options: DynamoDBStreamOptions;
  private state: ShardState = {};
  private loaded = false;
  private firstStart = false;
  private dirty = false;
  private readonly cursors = new Map<string, ShardCursor>();
  private inFlight: Promise<number> | undefined;
  private loop: Promise<void> | undefined;
  private stopRequested = false;
  /** Another consumer owns the checkpoint (a save got {@link CheckpointConflictError}): no poll reads any more. */
  private conflicted = false;
  private idleAbort = new AbortController();

  constructor(options: DynamoDBStreamOptions) {
    super();
    this.options = options;
    if (options.shardState !== undefined) this.setShardState(options.shardState);
  }

  /** A copy of the current state: the last processed sequence number of each shard. */
  getShardState(): ShardState {
    return cloneShardState(this.state);
  }

  /**
   * Replaces the state (call it while no poll is in flight). Read positions are re-opened from it.
   *
   * @throws {@link InvalidShardStateError} when `state` is not a {@link ShardState}.
   */
  setShardState(state: ShardState): void {
    this.state = parseShardState(state);
    this.loaded = true;
    this.firstStart = Object.keys(this.state).length === 0;
    this.cursors.clear();
  }

  /**
   * One poll: lists the shards, then reads one batch from every readable shard (and from children whose parent
   * this poll drained), delivering each record to the listeners in order. Never rejects: failures are emitted as
   * `'error'`. Concurrent calls share the poll in flight.
   */
  async fetchStreamState(): Promise<void> {
    await this.pollOnce();
  }

  /**
   * Lists the shards and opens a read position in each readable shard now, without reading. With
   * `startingPosition: 'LATEST'` on a first start, later polls deliver exactly the changes made after this call:
   * the bookmark {@link TableReplica} takes before scanning the table.
   */
  async bookmark(): Promise<void> {
    await this.ensureLoaded();
    await this.syncShards();
    await Promise.all(
      readableShards(this.state).map(async (id) => {
        const cursor = this.cursor(id);
        if (cursor.iterator) return;
        const opened = await openIterator(this.readContext(), id, this.state[id]!, cursor);
        if (opened) cursor.iterator = opened;
      }),
    );
  }

  /** Polls until {@link stop}: again at once after a poll that found records, else after `pollIntervalMs`. */
  start(options: PollOptions = {}): void {
    if (this.loop) return;
    const interval = options.pollIntervalMs ?? 1_000;
    this.stopRequested = false;
    this.idleAbort = new AbortController();
    this.loop = (async () => {
      while (!this.stopRequested && !this.conflicted) {
        const found = await this.pollOnce();
        if (!this.stopRequested && found === 0) await this.idle(interval);
      }
    })().finally(() => {
      this.loop = undefined;
    });
  }

  /** Stops polling: waits for the poll in flight and saves the last checkpoint. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    this.idleAbort.abort();
    await this.loop;
    await this.inFlight;
    if (this.dirty) await this.saveCheckpoint();
  }

  /**
   * An async iterator of batches (one shard each, in order) with backpressure: the next poll happens when the
   * consumer asks, and a batch's state is committed and saved only when the consumer asks for the next batch.
   * Breaking out of the loop leaves the last batch uncommitted: it is delivered again next time. Ends on {@link stop}.
   * Use either the iterator or the record events / {@link start}, not both.
   */
  batches(options: PollOptions = {}): AsyncGenerator<ChangeBatch, void, undefined> {
    this.stopRequested = false;
    this.idleAbort = new AbortController();
    return batchIterator(
      {
        pollBatches: async () => {
          const out: PendingBatch[] = [];
          await this.pollOnce(this.collector(out));
          return out;
        },
        stopped: () => this.stopRequested || this.conflicted,
        idle: (ms) => this.idle(ms),
        save: async () => {
          if (this.dirty) await this.saveCheckpoint();
        },
        abandon: () => this.cursors.clear(),
      },
      options.pollIntervalMs ?? 1_000,
    );
  }

  /** `for await (const batch of stream)`: {@link batches} with the default poll interval. */
  [Symbol.asyncIterator](): AsyncGenerator<ChangeBatch, void, undefined> {
    return this.batches();
  }

  private idle(ms: number): Promise<void> {
    return sleep(ms, this.idleAbort.signal).catch(() => undefined);
  }

  private pollOnce(deliver: Deliver = this.dispatcher): Promise<number> {
    if (!this.inFlight) {
      this.inFlight = this.poll(deliver)
        .catch((error: unknown) => {
          this.report(error);
          return 0;
        })
        .finally(() => {
          this.inFlight = undefined;
        });
    }
    return this.inFlight;
  }

  private async ensureLoaded(): Promise<void> {
    if (this.loaded) return;
    const saved = await this.options.checkpointStore?.load();
    this.state = saved === undefined ? {} : parseShardState(saved);
    this.firstStart = Object.keys(this.state).length === 0;
    this.loaded = true;
  }

  private async poll(deliver: Deliver): Promise<number> {
    // Once another consumer took the checkpoint over, this one reads nothing more (a restart of the poll loop
    // included): it would apply changes the owner applies and can never save its progress.
    if (this.conflicted) return 0;
    await this.ensureLoaded();
    if (!(await this.syncShards())) return 0;

    let total = 0;
    const seen = new Set<string>();
    for (;;) {
      const ids = readableShards(this.state).filter((id) => !seen.has(id));
      if (ids.length === 0) break;
      for (const id of ids) seen.add(id);
      const counts = await Promise.all(
        ids.map((id) =>
          this.readShard(id, deliver).catch((error: unknown) => {
            this.report(error);
            return 0;
          }),
        ),
      );
      total += counts.reduce((a, b) => a + b, 0);
      if (this.stopRequested) break;
    }
    if (this.dirty) await this.saveCheckpoint();
    return total;
  }

  /** Lists the shards and brings the state up to date; `false` when the listing failed (reported). */
  private async syncShards(): Promise<boolean> {
    let shards: Awaited<ReturnType<typeof describeShards>>;
    try {
      shards = await retry(() => describeShards(this.options.client, this.options.streamArn), {
        ...this.options.retry,
        isRetryable: isTransientError,
      });
    } catch (error) {
      this.report(new DescribeStreamError(this.options.streamArn, error));
      return false;
    }
    const { added, vanished } = reconcileShards(this.state, shards);
    if (added.length > 0) {
      this.dirty = true;
      if (this.firstStart && this.options.startingPosition === 'LATEST') {
        for (const id of added) {
          const p = this.state[id]!;
          if (p.closed) p.retired = true;
        }
        // Only shards readable now start at LATEST. A child listed while its parent still shows as open is read
        // after that parent, from TRIM_HORIZON: at LATEST it would skip what it received in the meantime.
        const readable = new Set(readableShards(this.state));
        for (const id of added) {
          if (!this.state[id]!.retired && readable.has(id)) this.cursor(id).useLatest = true;
        }
      }
      await this.emitSafely('new shards', [added]);
    }
    this.firstStart = false;
    for (const id of vanished) await this.vanish(id, undefined);
    return true;
  }

  private readContext(): ReadContext {
    return {
      client: this.options.client,
      streamArn: this.options.streamArn,
      limit: this.options.limit,
      retry: this.options.retry ?? {},
      onDataLoss: (info) => this.emitSafely('data loss', [info]),
    };
  }

  private cursor(shardId: string): ShardCursor {
    let c = this.cursors.get(shardId);
    if (!c) {
      c = {};
      this.cursors.set(shardId, c);
    }
    return c;
  }

  private async readShard(shardId: string, deliver: Deliver): Promise<number> {
    const progress = this.state[shardId];
    if (!progress) return 0;
    const cursor = this.cursor(shardId);
    const outcome = await readShardBatch(this.readContext(), shardId, progress, cursor);
    if (outcome.kind === 'vanished') {
      await this.vanish(shardId, outcome.error);
      return 0;
    }
    if (outcome.kind === 'failed') {
      this.report(outcome.error);
      return 0;
    }
    const changes: ChangeRecord[] = [];
    let decodeFailed = false;
    for (const raw of outcome.records) {
      try {
        const change = toChangeRecord(shardId, raw, this.options.unmarshall ?? true);
        // A record at or before the processed position (a re-read after a re-opened iterator) is not repeated.
        const done = progress.sequenceNumber;
        if (done !== undefined && compareSequenceNumbers(change.sequenceNumber, done) <= 0) continue;
        changes.push(change);
      } catch (error) {
        decodeFailed = true;
        this.report(new RecordDecodeError(shardId, raw.dynamodb?.SequenceNumber ?? '?', error));
        break;
      }
    }
    const atEnd = !decodeFailed && outcome.next === undefined;
    const delivered = await deliver(shardId, changes, atEnd);
    if (!this.cursors.has(shardId)) return delivered;
    if (delivered === changes.length && !decodeFailed) cursor.iterator = outcome.next;
    else cursor.iterator = delivered === 0 && outcome.iteratorUsed ? outcome.iteratorUsed : undefined;
    return delivered;
  }

  /** Delivers records to the listeners one by one, committing each once its listeners settled. */
  private readonly dispatcher: Deliver = async (shardId, changes, atEnd) => {
    let delivered = 0;
    for (const change of changes) {
      let event = 'record';
      try {
        await this.dispatch('record', [change]);
        if (change.eventName === 'INSERT') {
          event = 'insert record';
          await this.dispatch(event, [change.newImage, change.keys, change]);
        } else if (change.eventName === 'MODIFY') {
          event = 'modify record';
          await this.dispatch(event, [change.newImage, change.oldImage, change.keys, change]);
        } else {
          event = 'remove record';
          await this.dispatch(event, [change.oldImage, change.keys, change]);
        }
      } catch (error) {
        this.report(new ListenerError(shardId, change.sequenceNumber, event, error));
        return delivered;
      }
      this.commit(shardId, change.sequenceNumber, false);
      delivered++;
    }
    if (atEnd) await this.retire(shardId);
    return delivered;
  };

  /** A deliverer that collects batches for the iterator; they are committed later. */
  private collector(out: PendingBatch[]): Deliver {
    return async (shardId, changes, atEnd) => {
      if (changes.length === 0) {
        if (atEnd) await this.retire(shardId);
        return 0;
      }
      const last = changes[changes.length - 1]!.sequenceNumber;
      out.push({
        batch: { shardId, records: changes },
        commit: () => this.commit(shardId, last, atEnd),
      });
      return changes.length;
    };
  }

  private commit(shardId: string, sequenceNumber: string, retire: boolean): void {
    const p = this.state[shardId];
    if (!p) return;
    p.sequenceNumber = sequenceNumber;
    this.dirty = true;
    if (retire) void this.retire(shardId);
  }

  private async retire(shardId: string): Promise<void> {
    const p = this.state[shardId];
    if (!p || p.retired) return;
    p.retired = true;
    this.dirty = true;
    this.cursors.delete(shardId);
    await this.emitSafely('remove shards', [[shardId]]);
  }

  private async vanish(shardId: string, error: unknown): Promise<void> {
    const p = this.state[shardId];
    if (!p || p.retired) return;
    await this.emitSafely('data loss', [
      {
        shardId,
        reason: 'shard-vanished',
        ...(p.sequenceNumber !== undefined ? { lastSequenceNumber: p.sequenceNumber } : {}),
        ...(error !== undefined ? { error } : {}),
      },
    ]);
    await this.retire(shardId);
  }

  private async saveCheckpoint(): Promise<void> {
    const snapshot = cloneShardState(this.state);
    this.dirty = false;
    const store = this.options.checkpointStore;
    if (store) {
      try {
        await store.save(snapshot);
      } catch (error) {
        if (error instanceof CheckpointConflictError) {
          // Another consumer owns this checkpoint: stop for good rather than fight over it.
          this.conflicted = true;
          this.stopRequested = true;
          this.idleAbort.abort();
          this.report(error);
        } else {
          this.dirty = true;
          this.report(new CheckpointSaveError(error));
        }
        return;
      }
    }
    await this.emitSafely('checkpoint', [snapshot]);
  }

  /** Calls the listeners of `event` in order, awaiting async ones; throws what a listener throws. */
  private async dispatch(event: string, args: unknown[]): Promise<void> {
    const listeners = this.rawListeners(event as keyof DynamoDBStreamEvents) as unknown as Listener[];
    for (const listener of listeners) await listener.apply(this, args);
  }

  /** Like {@link dispatch}, but a failing listener is reported, not thrown. */
  private async emitSafely<K extends keyof DynamoDBStreamEvents>(
    event: K,
    args: DynamoDBStreamEvents[K],
  ): Promise<void> {
    try {
      await this.dispatch(event, args);
    } catch (error) {
      this.report(new ListenerError('-', '-', event, error));
    }
  }

  /** Emits `'error'`; without an error listener, a process warning instead of a crash. */
  private report(error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    if (this.listenerCount('error') === 0) {
      process.emitWarning(err);
      return;
    }
    for (const listener of this.rawListeners('error') as unknown as Listener[]) {
      try {
        const result = listener.call(this, err);
        if (result instanceof Promise) result.catch(() => undefined);
      } catch {
        // A throwing error listener must not take the consumer down.
      }
    }
  }
}
