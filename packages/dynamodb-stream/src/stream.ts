import { EventEmitter, setMaxListeners } from 'node:events';
import type { _Record } from '@aws-sdk/client-dynamodb-streams';
import { sleep } from '@kinesis-archive/core';
import { Checkpointer } from './checkpointer.js';
import { Discovery } from './discovery.js';
import { type CheckpointConflictError, ConsumerStateError, ListenerError } from './errors.js';
import { BatchQueue, type ChangeBatch } from './iterator.js';
import type { Lease } from './lease-table.js';
import { type LeaseCounts, LeaseManager } from './leases.js';
import { type ConsumerPhase, Lifecycle, type Run } from './lifecycle.js';
import { callListeners, deliverToListeners, reportError } from './listeners.js';
import { openIterator, type ReadContext, type ShardCursor } from './reader.js';
import { toChangeRecord } from './records.js';
import { cloneShardState, parseShardState, type ShardState } from './shard-state.js';
import { readableShards } from './shard-tracker.js';
import {
  type Deliver,
  type PoisonInfo,
  ShardWorker,
  type StepResult,
  type WorkerHost,
} from './shard-worker.js';
import type {
  CatchUpOptions,
  DynamoDBStreamEvents,
  DynamoDBStreamOptions,
  PollOptions,
} from './stream-types.js';

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
  private readonly cursors = new Map<string, ShardCursor>();
  private readonly workers = new Map<string, ShardWorker>();
  private readonly discovery: Discovery;
  private readonly lifecycle: Lifecycle;
  private readonly checkpointer: Checkpointer;
  private readonly host: WorkerHost;
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
    this.discovery = new Discovery({
      options,
      streamArn: () => this.streamArn,
      state: () => this.state,
      markDirty: () => this.checkpointer.markDirty(),
      useLatest: (id) => {
        this.cursor(id).useLatest = true;
      },
      emit: (event, args) => this.emitSafely(event, args),
      vanish: (id, error) => this.vanish(id, error),
      readContext: (signal) => this.readContext(signal),
      switchTo: (streamArn) => {
        this.streamArn = streamArn;
        this.leases?.follow(streamArn);
        for (const id of Object.keys(this.state)) delete this.state[id];
        this.cursors.clear();
        this.workers.clear();
        this.checkpointer.markDirty();
      },
    });
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
    await this.discovery.discover(undefined, (error) => this.report(error));
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

  private readonly eventsBody = (run: Run): Promise<void> => this.runLoop(run, this.toListeners);

  /** Delivers to the record listeners, committing each change once they settled. */
  private readonly toListeners: Deliver = (shardId, changes, signal) =>
    deliverToListeners(this, changes, signal, (change) => this.commit(shardId, change.sequenceNumber));

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
    queue.endWith(this.lifecycle.start(body));
    try {
      for (;;) {
        const pending = await queue.take();
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

    await this.discovery.discover(run.signal, report);
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
      await this.discovery.discover(run.signal, report);
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
      await this.discovery.discover(controller.signal, report);
      const ctx = this.readContext(controller.signal);
      for (;;) {
        const ids = readableShards(this.state).filter((id) => !results.has(id));
        if (ids.length === 0 || controller.signal.aborted) break;
        await Promise.all(
          ids.map(async (id) => {
            const worker = this.worker(id);
            results.set(id, await worker.step(ctx, this.toListeners, controller.signal, report));
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
    this.discovery.firstStart = Object.keys(this.state).length === 0;
    this.loaded = true;
    await this.discovery.checkStreamOfState();
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
