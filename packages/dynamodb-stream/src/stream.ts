import { EventEmitter, setMaxListeners } from 'node:events';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { _Record } from '@aws-sdk/client-dynamodb-streams';
import { type BackoffOptions, isTransientError, retry, sleep } from '@kinesis-archive/core';
import type { CheckpointStore } from './checkpoint-store.js';
import { Checkpointer } from './checkpointer.js';
import {
  type CheckpointConflictError,
  ConsumerStateError,
  DescribeStreamError,
  ListenerError,
} from './errors.js';
import { BatchQueue, type ChangeBatch } from './iterator.js';
import type { Lease } from './lease-table.js';
import { type LeaseCounts, LeaseManager, type LeaseOptions } from './leases.js';
import { type ConsumerPhase, Lifecycle, type Run } from './lifecycle.js';
import { callListeners, deliverToListeners, reportError } from './listeners.js';
import {
  type DataLossInfo,
  openIterator,
  type ReadContext,
  type ShardCursor,
  shardExists,
} from './reader.js';
import { type ChangeRecord, type Image, toChangeRecord, type UnmarshallSetting } from './records.js';
import { cloneShardState, parseShardState, type ShardState } from './shard-state.js';
import {
  childHasProgress,
  describeShards,
  lineageGate,
  readableShards,
  ShardDirectory,
  type StreamListing,
  type StreamStatus,
  type StreamsClient,
} from './shard-tracker.js';
import {
  type Deliver,
  type PoisonInfo,
  type PoisonOptions,
  ShardWorker,
  type StepResult,
  type WorkerHost,
} from './shard-worker.js';

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
  /**
   * Decode images with the SDK's `unmarshall` (`true`, default: numbers beyond what a JavaScript number holds
   * exactly become the SDK's `NumberValue`, see {@link exactNumbers}), with these `unmarshall` options, or not
   * (`false`: raw `AttributeValue`s).
   */
  unmarshall?: UnmarshallSetting;
  /**
   * Where the state is loaded from before the first read and saved as it moves (after each settled batch while
   * running, after each {@link DynamoDBStream.fetchStreamState}, and on stop).
   */
  checkpointStore?: CheckpointStore;
  /** `Limit` of each GetRecords call (1..1000). Default: the service's (1,000). */
  limit?: number;
  /** Backoff for throttled and failed calls (core's `BackoffOptions`). Default: 8 attempts within 30 s. */
  retry?: BackoffOptions;
  /** What happens to a change whose listeners keep failing (or that cannot be decoded): see {@link PoisonOptions}. */
  poison?: PoisonOptions;
  /**
   * Follow the table's stream across a disable and re-enable (which makes a new stream with a new ARN): once the
   * stream is `DISABLED` and drained, the table's `LatestStreamArn` is read (DescribeTable) at each listing, and a
   * new stream is followed from its oldest record, with a `'stream changed'` event. Without it, the consumer
   * stays on its stream and emits `'stream status'`.
   */
  followTable?: { dynamodb: Pick<DynamoDBClient, 'send'>; tableName: string };
  /**
   * Share the stream with other consumers (in this process or others) through shard leases in a DynamoDB table,
   * the KCL's way: each shard is read by one worker at a time, leases are spread evenly, a dead worker's leases
   * are taken over once they expire, and each shard's checkpoint is kept in its lease (no `checkpointStore`).
   * Only {@link DynamoDBStream.start} and {@link DynamoDBStream.batches} read with leases.
   */
  leases?: LeaseOptions;
}

/** The stream a consumer follows changed: the saved state was for an earlier stream of the table. */
export interface StreamChangedInfo {
  /** The stream the saved state belongs to. */
  previousStreamArn: string;
  /** The stream read from now on. */
  streamArn: string;
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
  /** The state after it moved; saved already when a store is set. */
  checkpoint: [state: ShardState];
  /** Records could not be read (trimmed past retention, the shard vanished, or the stream was replaced). */
  'data loss': [info: DataLossInfo];
  /**
   * A change used up its attempts (see {@link PoisonOptions}) and no `onPoison` callback is set. The shard moves past
   * it once the listeners settled; a listener that throws makes it try again later.
   */
  poison: [info: PoisonInfo];
  /** The stream's status changed (e.g. to `DISABLED`: its shards are closed, it is drained, then nothing comes). */
  'stream status': [status: StreamStatus];
  /** The saved state belonged to another stream (the table's stream was disabled and enabled again). */
  'stream changed': [info: StreamChangedInfo];
  /** The consumer's phase changed (`starting`, `running`, `stopping`, `stopped`). */
  phase: [phase: ConsumerPhase];
  /** A failure. Read and listener failures are retried (the shard waits); a checkpoint conflict stops the consumer. */
  error: [error: Error];
}

/** Options of {@link DynamoDBStream.start} and {@link DynamoDBStream.batches}. */
export interface PollOptions {
  /** Pause of a shard after a read that found no record, in ms. Default 1,000. */
  pollIntervalMs?: number;
  /** Pause between two listings of the shards, in ms (a drained shard lists at once). Default 10,000. */
  shardDiscoveryIntervalMs?: number;
}

/** Options of {@link DynamoDBStream.catchUp}. */
export interface CatchUpOptions {
  /**
   * An open shard counts as caught up after this many empty pages in a row (DynamoDB Streams has no "behind
   * latest" figure, and may return empty pages before records further on), or once it delivered a change created
   * after the call. Default 3.
   */
  emptyPages?: number;
}

const DEFAULT_DISCOVERY_MS = 10_000;

/** Per-instance hold on saves, for {@link TableReplica} (not part of the public API). */
const saveHolds = new WeakMap<DynamoDBStream, (state: ShardState) => boolean>();

/** Holds the saves of `stream` while `holding` says so (the replica's scan and LATEST bookmarks). @internal */
export function holdSaves(stream: DynamoDBStream, holding: (state: ShardState) => boolean): void {
  saveHolds.set(stream, holding);
}

/**
 * A DynamoDB Streams consumer that never loses or reorders a change. Each shard has its own worker (its read loop,
 * pacing and backoff), so a slow, throttled or hung shard delays only itself and its children; a child starts only
 * after its parent was drained. Shards are listed apart from reading, and a shard is given up only when the
 * service says it is gone. The state holds sequence numbers, not iterators; it is saved as it moves.
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
  private streamArn: string;
  private state: ShardState = {};
  private loaded = false;
  private firstStart = false;
  private readonly cursors = new Map<string, ShardCursor>();
  private readonly workers = new Map<string, ShardWorker>();
  private readonly directory = new ShardDirectory();
  private readonly lifecycle: Lifecycle;
  private readonly checkpointer: Checkpointer;
  private readonly host: WorkerHost;
  private status: StreamStatus | undefined;
  /** Another consumer owns the checkpoint: nothing is read any more. */
  private conflict: CheckpointConflictError | undefined;
  private rounds = new Set<AbortController>();
  private roundInFlight: Promise<unknown> | undefined;
  private readonly leases: LeaseManager | undefined;
  /** The worker loops of the run, by shard. */
  private running = new Map<string, Promise<void>>();

  /**
   * @throws {@link ConsumerStateError} for `leases` together with a `checkpointStore` (the leases keep the
   * checkpoints) or with `startingPosition: 'LATEST'` (not supported with leases).
   */
  constructor(options: DynamoDBStreamOptions) {
    super();
    this.options = options;
    this.streamArn = options.streamArn;
    if (options.leases) {
      if (options.checkpointStore) {
        throw new ConsumerStateError(
          'leases keep the checkpoints in the lease table: give no checkpointStore',
        );
      }
      if (options.startingPosition === 'LATEST') {
        throw new ConsumerStateError("startingPosition 'LATEST' is not supported with leases");
      }
      this.leases = new LeaseManager(options.leases, options.streamArn);
    }
    this.lifecycle = new Lifecycle((phase) => void this.emitSafely('phase', [phase]));
    this.checkpointer = new Checkpointer(() => this.state, this.leases?.store() ?? options.checkpointStore, {
      saved: (snapshot) => this.emitSafely('checkpoint', [snapshot]),
      failed: (error) => this.report(error),
      holding: (state) => saveHolds.get(this)?.(state) ?? false,
    });
    this.host = this.workerHost();
    if (options.shardState !== undefined) this.setShardState(options.shardState);
  }

  /** With `leases`: the shards this consumer holds now. */
  get leasedShards(): string[] {
    return this.leases?.heldShards() ?? [];
  }

  /** With `leases`: how many leases this consumer took, stole and lost. */
  get leaseCounts(): LeaseCounts | undefined {
    return this.leases ? { ...this.leases.counts } : undefined;
  }

  /** Where the consumer is: `idle`, `starting`, `running`, `stopping` or `stopped`. */
  get phase(): ConsumerPhase {
    return this.lifecycle.phase;
  }

  /** A copy of the current state: the last processed sequence number of each shard. */
  getShardState(): ShardState {
    return cloneShardState(this.state);
  }

  /**
   * Replaces the state. Read positions are re-opened from it.
   *
   * @throws {@link InvalidShardStateError} when `state` is not a {@link ShardState}.
   * @throws {@link ConsumerStateError} while the consumer runs.
   */
  setShardState(state: ShardState): void {
    if (this.lifecycle.body)
      throw new ConsumerStateError('setShardState() while the consumer runs: stop() it first');
    this.state = parseShardState(state);
    this.loaded = false;
    this.pendingState = this.state;
    this.cursors.clear();
    this.workers.clear();
  }

  /** A state given by the constructor or {@link setShardState}, checked against the stream on the next start. */
  private pendingState: ShardState | undefined;

  /**
   * One round: lists the shards, then reads one batch from every readable shard (and from children whose parent
   * this round drained), delivering each record to the listeners in order, and saves the checkpoint. Never
   * rejects: failures are emitted as `'error'`. Does nothing while {@link start} or {@link batches} runs.
   */
  async fetchStreamState(): Promise<void> {
    if (this.lifecycle.body) return;
    if (this.leases) {
      this.report(
        new ConsumerStateError('fetchStreamState() reads without leases: use start() or batches()'),
      );
      return;
    }
    if (this.roundInFlight) {
      await this.roundInFlight;
      return;
    }
    await this.round((error) => this.report(error));
  }

  /**
   * Reads until every shard is caught up (drained, or see {@link CatchUpOptions}): every change committed before
   * the call is then delivered. Rejects on the first failure (a read that failed after its retries, a listener
   * that threw, a change that cannot be decoded, a checkpoint conflict).
   *
   * @throws {@link ConsumerStateError} while {@link start} or {@link batches} runs.
   */
  async catchUp(options: CatchUpOptions = {}): Promise<void> {
    if (this.lifecycle.body) throw new ConsumerStateError('catchUp() while the consumer runs');
    if (this.leases) throw new ConsumerStateError('catchUp() reads without leases: use start() or batches()');
    const need = options.emptyPages ?? 3;
    const after = Math.floor(Date.now() / 1000) * 1000 + 1000;
    const empties = new Map<string, number>();
    const caughtUp = new Set<string>();
    for (;;) {
      let failure: Error | undefined;
      const results = await this.round((error) => {
        failure ??= error;
      });
      if (failure) throw failure;
      for (const [id, result] of results) {
        if (result.kind === 'empty') empties.set(id, (empties.get(id) ?? 0) + 1);
        else if (result.kind === 'records') {
          empties.set(id, 0);
          if (result.newest && result.newest.getTime() >= after) caughtUp.add(id);
        }
      }
      const open = Object.keys(this.state).filter((id) => !this.state[id]!.retired);
      if (open.every((id) => caughtUp.has(id) || (empties.get(id) ?? 0) >= need)) return;
    }
  }

  /**
   * Lists the shards and opens a read position in each readable shard now, without reading. With
   * `startingPosition: 'LATEST'` on a first start, later reads deliver exactly the changes made after this call:
   * the bookmark {@link TableReplica} takes before scanning the table.
   */
  async bookmark(): Promise<void> {
    await this.ensureLoaded();
    await this.discover(undefined, (error) => this.report(error));
    const ctx = this.readContext(undefined);
    await Promise.all(
      readableShards(this.state).map(async (id) => {
        const cursor = this.cursor(id);
        if (cursor.iterator) return;
        const opened = await openIterator(ctx, id, this.state[id]!, cursor);
        if (opened) cursor.iterator = opened;
      }),
    );
  }

  /**
   * Reads every shard until {@link stop}, each in its own loop: again at once after a batch, after
   * `pollIntervalMs` after an empty read, with backoff after a failure. Does nothing while running; while stopping,
   * starts again once stopped.
   *
   * @throws {@link ConsumerStateError} while {@link batches} runs.
   */
  start(options: PollOptions = {}): void {
    const body = this.lifecycle.body;
    if (body && body !== this.eventsBody) throw new ConsumerStateError('start() while batches() runs');
    this.pollOptions = options;
    void this.lifecycle.start(this.eventsBody);
  }

  private pollOptions: PollOptions = {};

  private readonly eventsBody = (run: Run): Promise<void> =>
    this.runLoop(run, (shardId, changes, signal) =>
      deliverToListeners(this, changes, signal, (change) => this.commit(shardId, change.sequenceNumber)),
    );

  /**
   * Stops: ends every read at once (a hung call is abandoned), waits for the listeners in flight and saves the
   * last checkpoint. Also ends a {@link batches} loop and a {@link fetchStreamState} in flight.
   */
  async stop(): Promise<void> {
    for (const round of this.rounds) round.abort();
    await this.lifecycle.stop();
    await this.roundInFlight;
    await this.saveCatching(undefined);
  }

  /**
   * An async iterator of batches (one shard each, in order) with backpressure: a shard is not read further until
   * its batch is acknowledged, and a batch is acknowledged (committed, and its checkpoint saved) when the loop asks
   * for the next one. Breaking out of the loop, or {@link stop}, leaves the batch in hand unacknowledged: it is
   * delivered again next time, from the same position. Throws {@link CheckpointConflictError} when another
   * consumer took the checkpoint over. Use either the iterator or {@link start}, not both.
   *
   * @throws {@link ConsumerStateError} while {@link start} or another loop runs.
   */
  batches(options: PollOptions = {}): AsyncGenerator<ChangeBatch, void, undefined> {
    if (this.lifecycle.body) throw new ConsumerStateError('batches() while the consumer runs');
    this.pollOptions = options;
    return this.iterate();
  }

  /** `for await (const batch of stream)`: {@link batches} with the default poll interval. */
  [Symbol.asyncIterator](): AsyncGenerator<ChangeBatch, void, undefined> {
    return this.batches();
  }

  private async *iterate(): AsyncGenerator<ChangeBatch, void, undefined> {
    const queue = new BatchQueue((shardId, sequenceNumber) => this.commit(shardId, sequenceNumber));
    let signal: AbortSignal | undefined;
    const body = (run: Run): Promise<void> => {
      signal = run.signal;
      return this.runLoop(run, queue.deliver);
    };
    const ended = this.lifecycle.start(body);
    try {
      for (;;) {
        const pending = await queue.take(ended);
        if (!pending || signal?.aborted) break;
        yield pending.batch;
        // stop() (or a fatal error) while the loop held the batch: nothing more is committed, saved or yielded.
        if (signal?.aborted || this.lifecycle.body !== body) break;
        pending.ack();
        try {
          await this.checkpointer.save();
        } catch (error) {
          this.onConflict(error as CheckpointConflictError, false);
          throw error;
        }
      }
      const failure = this.lifecycle.failure;
      if (failure) throw failure;
    } finally {
      queue.close();
      if (this.lifecycle.body === body) await this.lifecycle.stop();
    }
  }

  // --- the run: discovery and one worker per readable shard ---

  private async runLoop(run: Run, deliver: Deliver): Promise<void> {
    if (this.conflict) {
      // Another consumer owns the checkpoint: this one reads nothing, whatever starts it.
      this.report(this.conflict);
      run.fail(this.conflict);
      return;
    }
    const report = (error: Error) => this.report(error);
    await this.ensureLoaded();
    const interval = this.pollOptions.pollIntervalMs ?? 1_000;
    const discoveryMs = this.pollOptions.shardDiscoveryIntervalMs ?? DEFAULT_DISCOVERY_MS;
    const running = new Map<string, Promise<void>>();
    this.running = running;
    let wake: (() => void) | undefined;
    const relist = () => wake?.();

    const leases = this.leases;
    const guarded: Deliver = leases
      ? (shardId, changes, signal) =>
          // A worker that lost the lease delivers nothing more: the new owner reads from the lease's checkpoint.
          leases.holds(shardId) ? deliver(shardId, changes, signal) : Promise.resolve({ settled: 0 })
      : deliver;
    const spawn = () => {
      for (const id of readableShards(this.state)) {
        if (run.signal.aborted || running.has(id) || (leases && !leases.holds(id))) continue;
        const loop = this.workerLoop(id, run, guarded, interval).finally(() => {
          running.delete(id);
          if (run.signal.aborted) return;
          spawn();
          // A drained shard whose children are not listed yet: list now rather than at the next interval.
          if (this.state[id]?.retired || this.state[id] === undefined) relist();
        });
        running.set(id, loop);
      }
    };

    await this.discover(run.signal, report);
    if (leases) await this.leaseTick(run, report);
    await this.saveCatching(run);
    run.running();
    spawn();
    const leaseLoop = leases ? this.leaseLoop(run, report, spawn) : undefined;
    while (!run.signal.aborted) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        sleep(discoveryMs, run.signal).then(resolve, resolve);
      });
      wake = undefined;
      if (run.signal.aborted) break;
      await this.discover(run.signal, report);
      spawn();
    }
    while (running.size > 0) await Promise.allSettled([...running.values()]);
    await leaseLoop;
    await this.saveCatching(run);
    if (leases) {
      // Checkpoints first, then the leases go: another worker takes them at once.
      try {
        await leases.releaseAll();
      } catch (error) {
        report(error as Error);
      }
    }
  }

  private async leaseLoop(run: Run, report: (error: Error) => void, spawn: () => void): Promise<void> {
    const leases = this.leases!;
    while (!run.signal.aborted) {
      await sleep(leases.renewIntervalMs, run.signal).catch(() => undefined);
      if (run.signal.aborted) return;
      await this.leaseTick(run, report);
      spawn();
    }
  }

  private async leaseTick(run: Run, report: (error: Error) => void): Promise<void> {
    try {
      await this.leases!.tick(this.state, this.streamArn, {
        taken: (shardId, lease) => this.onLeaseTaken(shardId, lease),
        lost: (shardId) => {
          this.cursors.delete(shardId);
        },
        handOver: async (shardId) => {
          await this.running.get(shardId);
          await this.checkpointer.save();
          this.cursors.delete(shardId);
        },
      });
    } catch (error) {
      if (!run.signal.aborted) report(error as Error);
    }
  }

  /** A taken lease: the shard is read from the lease's checkpoint, with a fresh iterator. */
  private onLeaseTaken(shardId: string, lease: Lease): void {
    const p = this.state[shardId] ?? { streamArn: this.streamArn };
    if (lease.parentShardId) p.parentShardId = lease.parentShardId;
    if (lease.checkpoint === undefined) delete p.sequenceNumber;
    else p.sequenceNumber = lease.checkpoint;
    this.state[shardId] = p;
    this.cursors.delete(shardId);
    this.workers.delete(shardId);
  }

  private async workerLoop(id: string, run: Run, deliver: Deliver, intervalMs: number): Promise<void> {
    const worker = this.worker(id);
    const ctx = this.readContext(run.signal);
    while (!run.signal.aborted && (!this.leases || this.leases.holds(id))) {
      const result = await worker.step(ctx, deliver, run.signal);
      if (result.kind === 'end' || result.kind === 'aborted') {
        if (result.kind === 'end') void this.saveCatching(run);
        return;
      }
      if (result.kind === 'records') {
        void this.saveCatching(run);
        continue;
      }
      const pause = result.kind === 'empty' ? intervalMs : result.delayMs;
      await sleep(pause, run.signal).catch(() => undefined);
    }
  }

  /** One round of reads (see {@link fetchStreamState}); returns the last step of each shard read. */
  private async round(report: (error: Error) => void): Promise<Map<string, StepResult>> {
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    this.rounds.add(controller);
    const work = (async () => {
      const results = new Map<string, StepResult>();
      if (this.conflict) {
        report(this.conflict);
        return results;
      }
      try {
        await this.ensureLoaded();
      } catch (error) {
        report(error as Error);
        return results;
      }
      await this.discover(controller.signal, report);
      const ctx = this.readContext(controller.signal);
      const deliver: Deliver = (shardId, changes, signal) =>
        deliverToListeners(this, changes, signal, (change) => this.commit(shardId, change.sequenceNumber));
      for (;;) {
        const ids = readableShards(this.state).filter((id) => !results.has(id));
        if (ids.length === 0 || controller.signal.aborted) break;
        await Promise.all(
          ids.map(async (id) => {
            const worker = this.worker(id);
            results.set(id, await worker.step(ctx, deliver, controller.signal, report));
          }),
        );
      }
      try {
        await this.checkpointer.save();
      } catch (error) {
        this.onConflict(error as CheckpointConflictError, false);
        report(error as Error);
      }
      return results;
    })();
    this.roundInFlight = work;
    try {
      return await work;
    } finally {
      this.rounds.delete(controller);
      if (this.roundInFlight === work) this.roundInFlight = undefined;
    }
  }

  // --- state ---

  private async ensureLoaded(): Promise<void> {
    if (this.loaded) return;
    let saved: ShardState | undefined = this.pendingState;
    this.pendingState = undefined;
    if (saved === undefined) {
      const stored = await this.options.checkpointStore?.load();
      saved = stored === undefined ? undefined : parseShardState(stored);
    }
    this.state = saved ?? {};
    this.firstStart = Object.keys(this.state).length === 0;
    this.loaded = true;
    await this.checkStreamOfState();
  }

  /** A state of another stream: its undrained shards are reported lost, and the state starts over. */
  private async checkStreamOfState(): Promise<void> {
    const others = Object.entries(this.state).filter(
      ([, p]) => p.streamArn !== undefined && p.streamArn !== this.streamArn,
    );
    if (others.length === 0) return;
    const previousStreamArn = others[0]![1].streamArn!;
    for (const [id, p] of others) {
      if (!p.retired) {
        await this.emitSafely('data loss', [
          {
            shardId: id,
            reason: 'stream-replaced',
            ...(p.sequenceNumber !== undefined ? { lastSequenceNumber: p.sequenceNumber } : {}),
          },
        ]);
      }
      delete this.state[id];
    }
    this.directory.reset();
    this.checkpointer.markDirty();
    await this.emitSafely('stream changed', [{ previousStreamArn, streamArn: this.streamArn }]);
  }

  /** Lists the shards and brings the state up to date. Failures are reported; the known shards read on. */
  private async discover(signal: AbortSignal | undefined, report: (error: Error) => void): Promise<void> {
    let listing: StreamListing | undefined;
    try {
      listing = await retry(() => describeShards(this.options.client, this.streamArn, signal), {
        ...this.options.retry,
        signal,
        isRetryable: isTransientError,
      });
    } catch (error) {
      if (signal?.aborted) return;
      report(new DescribeStreamError(this.streamArn, error));
    }
    if (listing) await this.applyListing(listing);
    await this.resolveUnknownParents(signal, report);
    if (listing) await this.followTable(signal, report);
  }

  /** With `followTable`: a disabled, drained stream gives way to the table's newer stream. */
  private async followTable(signal: AbortSignal | undefined, report: (error: Error) => void): Promise<void> {
    const follow = this.options.followTable;
    if (!follow || this.status !== 'DISABLED') return;
    if (Object.values(this.state).some((p) => !p.retired)) return;
    let latest: string | undefined;
    try {
      const { DescribeTableCommand } = await import('@aws-sdk/client-dynamodb');
      const out = await follow.dynamodb.send(
        new DescribeTableCommand({ TableName: follow.tableName }),
        signal ? { abortSignal: signal } : {},
      );
      latest = out.Table?.StreamSpecification?.StreamEnabled ? out.Table.LatestStreamArn : undefined;
    } catch (error) {
      if (!signal?.aborted) report(new DescribeStreamError(this.streamArn, error));
      return;
    }
    if (!latest || latest === this.streamArn) return;
    const previousStreamArn = this.streamArn;
    this.streamArn = latest;
    this.leases?.follow(latest);
    this.status = undefined;
    for (const id of Object.keys(this.state)) delete this.state[id];
    this.cursors.clear();
    this.workers.clear();
    this.directory.reset();
    this.checkpointer.markDirty();
    await this.emitSafely('stream changed', [{ previousStreamArn, streamArn: latest }]);
    await this.discover(signal, report);
  }

  private async applyListing(listing: StreamListing): Promise<void> {
    const { added, vanished, forgotten } = this.directory.reconcile(this.state, listing, this.streamArn);
    if (forgotten.length > 0) this.checkpointer.markDirty();
    if (added.length > 0) {
      this.checkpointer.markDirty();
      const closedAtStart: string[] = [];
      if (this.firstStart && this.options.startingPosition === 'LATEST') {
        for (const id of added) {
          const p = this.state[id]!;
          if (p.closed) {
            p.retired = true;
            closedAtStart.push(id);
          }
        }
        // Only shards readable now start at LATEST. A child listed while its parent still shows as open is read
        // after that parent, from TRIM_HORIZON: at LATEST it would skip what it received in the meantime.
        for (const id of added) {
          if (lineageGate(this.state, id) === 'readable') this.cursor(id).useLatest = true;
        }
      }
      await this.emitSafely('new shards', [added]);
      if (closedAtStart.length > 0) await this.emitSafely('remove shards', [closedAtStart]);
    }
    this.firstStart = false;
    for (const id of vanished) await this.vanish(id, undefined);
    if (listing.status !== undefined && listing.status !== this.status) {
      this.status = listing.status;
      await this.emitSafely('stream status', [listing.status]);
    }
  }

  /**
   * A child whose parent the state does not know: a listing may have left the parent out. Ask the service: a
   * parent that still exists is read first; one that does not (expired long ago) no longer holds the child back.
   */
  private async resolveUnknownParents(signal: AbortSignal | undefined, report: (error: Error) => void) {
    const ctx = this.readContext(signal);
    for (;;) {
      const unknown = new Set<string>();
      for (const id of Object.keys(this.state)) {
        if (lineageGate(this.state, id) === 'unknown-parent') unknown.add(this.state[id]!.parentShardId!);
      }
      if (unknown.size === 0 || signal?.aborted) return;
      let progressed = false;
      for (const parent of unknown) {
        if (childHasProgress(this.state, parent)) {
          // A child was read, so this parent was drained before: no need to ask.
          this.state[parent] = { streamArn: this.streamArn, retired: true };
          progressed = true;
          continue;
        }
        try {
          const exists = await shardExists(ctx, parent);
          this.state[parent] = exists
            ? { streamArn: this.streamArn }
            : { streamArn: this.streamArn, retired: true };
          this.checkpointer.markDirty();
          progressed = true;
        } catch (error) {
          if (!signal?.aborted) report(new DescribeStreamError(this.streamArn, error));
        }
      }
      if (!progressed) return;
    }
  }

  private cursor(shardId: string): ShardCursor {
    let c = this.cursors.get(shardId);
    if (!c) {
      c = {};
      this.cursors.set(shardId, c);
    }
    return c;
  }

  private worker(shardId: string): ShardWorker {
    let w = this.workers.get(shardId);
    if (!w) {
      w = new ShardWorker(shardId, this.host);
      this.workers.set(shardId, w);
    }
    return w;
  }

  private readContext(signal: AbortSignal | undefined): ReadContext {
    return {
      client: this.options.client,
      streamArn: this.streamArn,
      limit: this.options.limit,
      retry: this.options.retry ?? {},
      onDataLoss: (info) => this.emitSafely('data loss', [info]),
      signal,
    };
  }

  private workerHost(): WorkerHost {
    const unmarshall = this.options.unmarshall ?? true;
    return {
      progress: (id) => this.state[id],
      cursor: (id) => this.cursor(id),
      decode: (id, raw: _Record) => toChangeRecord(id, raw, unmarshall),
      commit: (id, seq) => this.commit(id, seq),
      retire: (id) => this.retire(id),
      vanish: (id, error) => this.vanish(id, error),
      report: (error) => this.report(error),
      poison: (info) => this.poison(info),
      poisonOptions: this.options.poison ?? {},
      retry: this.options.retry ?? {},
    };
  }

  private commit(shardId: string, sequenceNumber: string): void {
    const p = this.state[shardId];
    if (!p) return;
    p.sequenceNumber = sequenceNumber;
    this.checkpointer.markDirty();
  }

  private async retire(shardId: string): Promise<void> {
    const p = this.state[shardId];
    if (!p || p.retired) return;
    p.retired = true;
    this.checkpointer.markDirty();
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

  private async poison(info: PoisonInfo): Promise<boolean> {
    const onPoison = this.options.poison?.onPoison;
    if (onPoison) {
      await onPoison(info);
      return true;
    }
    if (this.listenerCount('poison') === 0) return false;
    await callListeners(this, 'poison', [info]);
    return true;
  }

  /** Saves; a conflict stops the run (or, outside one, every later read). */
  private async saveCatching(run: Run | undefined): Promise<void> {
    try {
      await this.checkpointer.save();
    } catch (error) {
      this.onConflict(error as CheckpointConflictError, true);
      run?.fail(error as Error);
    }
  }

  private onConflict(error: CheckpointConflictError, report: boolean): void {
    if (this.conflict) return;
    this.conflict = error;
    if (report) this.report(error);
  }

  /** Calls the listeners of `event`; a failing listener is reported, not thrown. */
  private async emitSafely<K extends keyof DynamoDBStreamEvents>(
    event: K,
    args: DynamoDBStreamEvents[K],
  ): Promise<void> {
    try {
      await callListeners(this, event, args);
    } catch (error) {
      this.report(new ListenerError('-', '-', event, error));
    }
  }

  private report(error: Error): void {
    reportError(this, error);
  }
}
