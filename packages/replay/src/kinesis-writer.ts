import { PutRecordsCommand, type PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { AbortError, type BackoffOptions } from '@kinesis-archive/core';
import { minDefined, selectBatch } from './batch-select.js';
import {
  InvalidReplayOptionError,
  KeyBlockedError,
  PutRecordsFailedError,
  WriterCallbackError,
  WriterClosedError,
  WriterStoppedError,
} from './errors.js';
import { KeyOrder, type KeySlot, keysOf } from './key-order.js';
import type { ShardRateLimiter } from './rate-limiter.js';
import { entryOutcome, isThrottle, RecordRetry, requestOutcome } from './retry-policy.js';
import type { KinesisClientLike } from './types.js';
import { type CheckedRecord, checkRecord, DEFAULT_MAX_RECORD_BYTES } from './validate.js';

/** A record given to {@link KinesisWriter.put}. */
export interface WriterRecord {
  /** 1..256 Unicode characters. */
  partitionKey: string;
  /** The payload, sent byte for byte; a string is sent as UTF-8. */
  data: Uint8Array | string;
  /** Routes the record by this hash key instead of MD5(partitionKey). */
  explicitHashKey?: string | undefined;
  /**
   * The keys whose order this record must keep (with `ordered: true`). Default `[partitionKey]`. A KPL aggregate
   * lists the partition keys of its user records here.
   */
  orderingKeys?: readonly string[] | undefined;
}

/** A record the writer gave up on, and why. */
export interface WriterFailure<T> {
  record: T;
  error: Error;
}

/** Where Kinesis stored a record. */
export interface SentInfo {
  sequenceNumber: string;
  shardId: string;
}

/** Options of {@link KinesisWriter}. Give `streamName` or `streamARN`. */
export interface KinesisWriterOptions<T extends WriterRecord = WriterRecord> {
  /** Your configured Kinesis client (AWS SDK v3). */
  kinesis: KinesisClientLike;
  /** The target stream's name. */
  streamName?: string | undefined;
  /** The target stream's ARN. */
  streamARN?: string | undefined;
  /**
   * Keep the order of each key (default `true`): a record is not sent while an earlier record sharing one of its
   * ordering keys is unacknowledged, so partial failures and retries never reorder a key.
   */
  ordered?: boolean | undefined;
  /**
   * With `ordered`: what happens to a key's later records once one of its records failed for good. `'block'`
   * (default): they are not sent, and fail with {@link KeyBlockedError}, so the key's history in the stream has
   * no hole (the failed record and everything after it can be sent again, in order). `'continue'`: they are sent.
   */
  onKeyFailure?: 'block' | 'continue' | undefined;
  /** `PutRecords` requests in flight at once. Default 4. */
  concurrency?: number | undefined;
  /** Entries per `PutRecords` request, 1..500. Default 500. */
  maxBatchRecords?: number | undefined;
  /** Bytes (data + partition keys) per `PutRecords` request. Default 5 MiB, the Kinesis limit. */
  maxBatchBytes?: number | undefined;
  /** Largest record (data + partition key). Default 1 MiB; raise it for streams configured for larger records. */
  maxRecordBytes?: number | undefined;
  /** Records buffered before `put` waits. Default 2,000. */
  maxBufferedRecords?: number | undefined;
  /** How long a partial batch may wait for more records before it goes. Default 20 ms. */
  lingerMs?: number | undefined;
  /** Backoff of each failed record (attempts, delays, time budget). Defaults: 10 attempts, 100 ms..5 s, 60 s. */
  retry?: Omit<BackoffOptions, 'signal'> | undefined;
  /** Per-shard rate limits; none by default. A throttled shard's budget is emptied, so it gets a rest. */
  rateLimiter?: ShardRateLimiter | undefined;
  /** Stops sending: buffered records are not sent (see {@link KinesisWriterStats.unsent}); `put` rejects. */
  signal?: AbortSignal | undefined;
  /**
   * Keep the records of `stats.failed` and `stats.unsent` (default `true`). A caller that tracks them through
   * the callbacks passes `false`, so that the writer's memory does not grow with the failures.
   */
  keepOutcomes?: boolean | undefined;
  /** Called once per record Kinesis acknowledged. */
  onSent?: ((record: T, info: SentInfo) => void) | undefined;
  /**
   * Called once per acknowledged record before `onSent`: records returned here are sent in its place, at its
   * place in each key's order (no later record of their keys goes first), and `onSent` is not called for it. The
   * replayer uses it to send the user records of a KPL aggregate again when it landed on another shard than it
   * was built for (a reshard), as the KPL does.
   */
  resend?: ((record: T, info: SentInfo) => readonly T[] | undefined) | undefined;
  /** Called once per record the writer gave up on (also listed in {@link KinesisWriterStats.failed}). */
  onFailed?: ((record: T, error: Error) => void) | undefined;
  /**
   * Called once when a request fails for a reason that fails every record (stream not found, access denied, a KMS
   * key that cannot be used): the writer stops at once, as on abort. Buffered and in-flight records are unsent.
   */
  onStopped?: ((error: Error) => void) | undefined;
  /** Called once per record the writer will not send because it was aborted or stopped. */
  onUnsent?: ((record: T) => void) | undefined;
}

/** Counters and outcomes of a {@link KinesisWriter}. */
export interface KinesisWriterStats<T> {
  /** Records acknowledged by Kinesis. */
  sent: number;
  /** Entries re-sent after a failure. */
  retries: number;
  /** Records sent again in place of an acknowledged one (see {@link KinesisWriterOptions.resend}). */
  resent: number;
  /** `PutRecords` requests made. */
  requests: number;
  /** Records given up on, with their errors (empty with `keepOutcomes: false`). */
  failed: WriterFailure<T>[];
  /** Records never acknowledged because the writer was aborted or stopped (not failed: they may be sent again). */
  unsent: T[];
  /** Why the writer stopped, when a request failed for every record. */
  stoppedBy?: Error | undefined;
}

interface Unit<T> {
  record: T;
  entry: { PartitionKey: string; Data: Uint8Array; ExplicitHashKey?: string };
  size: number;
  /** The slots of its ordering keys (none when order is not kept). */
  slots: readonly KeySlot[];
  shard: string;
  ordinal: number;
  addedAt: number;
  notBefore: number;
  attempts: number;
  retry: RecordRetry | undefined;
}

const MAX_BATCH_RECORDS = 500;
const MAX_BATCH_BYTES = 5 * 1_048_576;

function intOption(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidReplayOptionError(name, value, `an integer in ${min}..${max}`);
  }
  return value;
}

/**
 * Writes records to a Kinesis stream with `PutRecords`: batches of up to 500 entries and 5 MiB (exact sizes, partition
 * keys included), several requests in flight, per-key order kept across partial failures, only failed entries
 * retried with jittered backoff, optional per-shard rate limits. Invalid records and records that still fail after
 * the retries are reported (`onFailed`, `stats.failed`), never dropped silently. A request refused for a reason
 * that fails every record (stream not found, access denied) stops the writer at once: nothing more is sent, and
 * `put` rejects with {@link WriterStoppedError}.
 *
 * `put` resolves once the record is buffered (it waits when the buffer is full); `flush` resolves once every
 * buffered record is acknowledged, given up on or unsent; `close` flushes and returns the stats.
 *
 * The writer is composed of one module per policy: batch selection (`batch-select`), per-key order
 * (`key-order`), rate budget (`rate-limiter`) and retries (`retry-policy`).
 *
 * @example
 * ```ts
 * const writer = new KinesisWriter({ kinesis, streamName: 'orders' });
 * for (const order of orders) await writer.put({ partitionKey: order.id, data: JSON.stringify(order) });
 * const { sent, failed } = await writer.close();
 * ```
 */
export class KinesisWriter<T extends WriterRecord = WriterRecord> {
  private readonly options: KinesisWriterOptions<T>;
  private readonly order: KeyOrder;
  private readonly keep: boolean;
  private readonly concurrency: number;
  private readonly maxBatchRecords: number;
  private readonly maxBatchBytes: number;
  private readonly maxRecordBytes: number;
  private readonly maxBuffered: number;
  private readonly lingerMs: number;
  private readonly stream: { StreamName: string } | { StreamARN: string };
  private pending: Unit<T>[] = [];
  private inFlight = 0;
  private inFlightUnits = 0;
  private ordinal = 0;
  private flushing = 0;
  private closed = false;
  private stopped: { error: Error } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = 0;
  private roomWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private idleWaiters: (() => void)[] = [];
  private callbackError: { error: unknown } | undefined;
  private readonly counters: KinesisWriterStats<T> = {
    sent: 0,
    retries: 0,
    resent: 0,
    requests: 0,
    failed: [],
    unsent: [],
  };

  /** @throws {@link InvalidReplayOptionError} for an invalid option or when no stream is named. */
  constructor(options: KinesisWriterOptions<T>) {
    this.options = options;
    if (options.streamARN) this.stream = { StreamARN: options.streamARN };
    else if (options.streamName) this.stream = { StreamName: options.streamName };
    else throw new InvalidReplayOptionError('streamName', undefined, 'streamName or streamARN');
    if (!options.kinesis || typeof options.kinesis.send !== 'function') {
      throw new InvalidReplayOptionError('kinesis', options.kinesis, 'an AWS SDK v3 KinesisClient');
    }
    const onKeyFailure = options.onKeyFailure ?? 'block';
    if (onKeyFailure !== 'block' && onKeyFailure !== 'continue') {
      throw new InvalidReplayOptionError('onKeyFailure', onKeyFailure, "'block' or 'continue'");
    }
    const ordered = options.ordered ?? true;
    this.order = new KeyOrder(ordered, ordered && onKeyFailure === 'block');
    this.keep = options.keepOutcomes ?? true;
    this.concurrency = intOption('concurrency', options.concurrency, 4, 1, 1_000);
    this.maxBatchRecords = intOption('maxBatchRecords', options.maxBatchRecords, 500, 1, MAX_BATCH_RECORDS);
    this.maxRecordBytes = intOption(
      'maxRecordBytes',
      options.maxRecordBytes,
      DEFAULT_MAX_RECORD_BYTES,
      1,
      10 * 1_048_576,
    );
    this.maxBatchBytes = intOption(
      'maxBatchBytes',
      options.maxBatchBytes,
      MAX_BATCH_BYTES,
      1,
      100 * 1_048_576,
    );
    if (this.maxBatchBytes < this.maxRecordBytes) {
      throw new InvalidReplayOptionError('maxBatchBytes', this.maxBatchBytes, 'at least maxRecordBytes');
    }
    this.maxBuffered = intOption('maxBufferedRecords', options.maxBufferedRecords, 2_000, 1, 10_000_000);
    this.lingerMs = intOption('lingerMs', options.lingerMs, 20, 0, 60_000);
    const signal = options.signal;
    if (signal) {
      if (signal.aborted) this.halt(new AbortError(signal.reason));
      else signal.addEventListener('abort', () => this.halt(new AbortError(signal.reason)), { once: true });
    }
  }

  /** Counters and outcomes so far. */
  get stats(): Readonly<KinesisWriterStats<T>> {
    return this.counters;
  }

  /** Records buffered or in flight. */
  get pendingRecords(): number {
    return this.pending.length + this.inFlightUnits;
  }

  /** Keys with a record buffered or in flight, as the per-key order tracks them (bounded by those records). */
  get trackedKeys(): number {
    return this.order.liveKeys;
  }

  /** The error that stopped the writer (a request refused for every record, or the abort), if any. */
  get stoppedBy(): Error | undefined {
    return this.stopped?.error;
  }

  /**
   * True when a record with these ordering keys would be refused because one of the keys is blocked (an earlier
   * record of it failed for good, with `onKeyFailure: 'block'`).
   */
  isBlocked(keys: readonly string[]): boolean {
    return this.order.blockedKey(keys) !== undefined;
  }

  /** {@link isBlocked} for a record whose only ordering key is its partition key. */
  isKeyBlocked(partitionKey: string): boolean {
    return this.order.blockedKey(undefined, partitionKey) !== undefined;
  }

  /**
   * Blocks keys from now on (with `onKeyFailure: 'block'`; otherwise does nothing): records of them put after
   * this call fail with {@link KeyBlockedError}; those already buffered came before and still go. For a caller
   * that knows of a failure the writer did not see (a record it could not even check, or one journaled by an
   * earlier run).
   */
  blockKeys(keys: readonly string[], error: Error): void {
    if (!this.order.blockOnFailure) return;
    this.order.failed(keys, error);
  }

  /**
   * Buffers a record for sending. Resolves once it is buffered (waiting while the buffer is full). An invalid
   * record (bad partition key or explicit hash key, too large), or one of a blocked key, is reported as failed at
   * once, and `put` resolves.
   *
   * @throws {@link WriterClosedError} after `close`; `AbortError` (of core) once the signal fired;
   *   {@link WriterStoppedError} once a request failed for every record.
   */
  async put(record: T): Promise<void> {
    this.throwIfStopped();
    if (this.closed) throw new WriterClosedError();
    while (this.pending.length >= this.maxBuffered) {
      await new Promise<void>((resolve, reject) => this.roomWaiters.push({ resolve, reject }));
    }
    this.throwIfStopped();
    this.accept(record, undefined);
  }

  /**
   * Buffers the record at once if there is room, without a promise (the replayer's fast path); `false` when the
   * buffer is full (call {@link put}). `checked` is the record as `checkRecord` returned it, when the caller
   * checked it already.
   *
   * @internal
   * @throws as {@link put}.
   */
  offer(record: T, checked?: CheckedRecord): boolean {
    this.throwIfStopped();
    if (this.closed) throw new WriterClosedError();
    if (this.pending.length >= this.maxBuffered) return false;
    this.accept(record, checked);
    return true;
  }

  private accept(record: T, known: CheckedRecord | undefined): void {
    const ordinal = this.ordinal++;
    let checked: CheckedRecord;
    if (known !== undefined && known.size <= this.maxRecordBytes) checked = known;
    else {
      try {
        checked = checkRecord(record, ordinal, this.maxRecordBytes);
      } catch (error) {
        this.fail(record, record.orderingKeys ?? [], error as Error);
        return;
      }
    }
    const blocked = this.order.blockedKey(record.orderingKeys, checked.partitionKey);
    if (blocked !== undefined) {
      this.fail(record, record.orderingKeys ?? [checked.partitionKey], new KeyBlockedError(blocked));
      return;
    }
    const now = Date.now();
    this.pending.push(this.unitOf(record, checked, ordinal, now));
    if (this.inFlight < this.concurrency) {
      if (this.pending.length >= this.maxBatchRecords) this.pump();
      else this.wake(now + this.lingerMs);
    }
  }

  /** A checked record entering the buffer: its request entry, and its key slots held from now on. */
  private unitOf(record: T, checked: CheckedRecord, ordinal: number, now: number): Unit<T> {
    const entry: Unit<T>['entry'] = { PartitionKey: checked.partitionKey, Data: checked.data };
    if (checked.explicitHashKey !== undefined) entry.ExplicitHashKey = checked.explicitHashKey;
    return {
      record,
      entry,
      size: checked.size,
      slots: this.order.hold(record.orderingKeys, checked.partitionKey),
      shard: this.options.rateLimiter?.shardOf(checked.partitionKey, checked.explicitHashKey) ?? '',
      ordinal,
      addedAt: now,
      notBefore: 0,
      attempts: 0,
      retry: undefined,
    };
  }

  /**
   * Sends everything buffered; resolves when every record is acknowledged, given up on, or unsent (abort, stop).
   *
   * @throws {@link WriterCallbackError} (with the stats) when a callback threw.
   */
  async flush(): Promise<void> {
    this.flushing++;
    try {
      this.pump();
      await this.idle();
      if (this.callbackError) throw new WriterCallbackError(this.callbackError.error, this.counters);
    } finally {
      this.flushing--;
    }
  }

  /** Flushes, then closes the writer (further `put`s throw). Returns the stats. */
  async close(): Promise<KinesisWriterStats<T>> {
    this.closed = true;
    try {
      await this.flush();
    } finally {
      this.clearTimer();
    }
    return this.counters;
  }

  private throwIfStopped(): void {
    if (!this.stopped) return;
    const error = this.stopped.error;
    if (error instanceof AbortError) throw error;
    throw new WriterStoppedError(error);
  }

  private idle(): Promise<void> {
    if (this.pending.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops sending for good (abort, or a request that fails every record): the buffer becomes unsent. */
  private halt(error: Error): void {
    if (this.stopped) return;
    this.stopped = { error };
    if (!(error instanceof AbortError)) {
      this.counters.stoppedBy = error;
      this.callback(() => this.options.onStopped?.(error));
    }
    const buffered = this.pending;
    this.pending = [];
    for (const u of buffered) this.unitUnsent(u);
    this.clearTimer();
    for (const w of this.roomWaiters.splice(0))
      w.reject(error instanceof AbortError ? error : new WriterStoppedError(error));
    this.settled();
  }

  private unsent(record: T): void {
    if (this.keep) this.counters.unsent.push(record);
    this.callback(() => this.options.onUnsent?.(record));
  }

  /** A buffered or in-flight record leaves the writer unsent. */
  private unitUnsent(u: Unit<T>): void {
    this.order.unhold(u.slots);
    this.unsent(u.record);
  }

  /** A buffered or in-flight record leaves the writer failed for good. */
  private unitFailed(u: Unit<T>, error: Error): void {
    this.order.unhold(u.slots);
    this.fail(u.record, keysOf(u.slots), error);
  }

  private fail(record: T, keys: readonly string[], error: Error): void {
    if (this.keep) this.counters.failed.push({ record, error });
    this.order.failed(keys, error);
    this.callback(() => this.options.onFailed?.(record, error));
    this.failBlocked();
  }

  /** The buffered records of blocked keys fail (with onKeyFailure 'block'), in their order. */
  private failBlocked(): void {
    if (this.order.blockOnFailure && this.order.blockedCount > 0 && this.pending.length > 0) {
      const stay: Unit<T>[] = [];
      const gone: { unit: Unit<T>; key: string }[] = [];
      for (const u of this.pending) {
        const key = this.order.blockedKey(keysOf(u.slots));
        if (key === undefined) stay.push(u);
        else gone.push({ unit: u, key });
      }
      if (gone.length === 0) return;
      this.pending = stay;
      for (const { unit, key } of gone) this.unitFailed(unit, new KeyBlockedError(key));
    }
  }

  /** Runs a user callback; its first error is rethrown by `flush`/`close`, the writer itself carries on. */
  private callback(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.callbackError ??= { error };
    }
  }

  /**
   * {@link callback} for the per-record callbacks, with their arguments passed instead of closed over: no closure
   * per record on the hot path. Returns what `fn` returned (undefined when it threw or is not set).
   */
  private callWith<R>(
    fn: ((record: T, info: SentInfo) => R) | undefined,
    record: T,
    info: SentInfo,
  ): R | undefined {
    if (!fn) return undefined;
    try {
      return fn(record, info);
    } catch (error) {
      this.callbackError ??= { error };
      return undefined;
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Makes sure `pump` runs at `at` (or earlier). */
  private wake(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    this.clearTimer();
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump();
      },
      Math.max(0, at - Date.now()),
    );
  }

  /** Sends as many batches as the concurrency, the key order, the backoffs and the rate limits allow. */
  private pump(): void {
    while (!this.stopped && this.inFlight < this.concurrency && this.pending.length > 0) {
      const now = Date.now();
      const selection = selectBatch(
        this.pending,
        now,
        { maxRecords: this.maxBatchRecords, maxBytes: this.maxBatchBytes },
        this.order.pass(),
        this.options.rateLimiter,
      );
      if (selection.units.length === 0) {
        if (selection.wakeAt !== undefined) this.wake(selection.wakeAt);
        return;
      }
      const lingerEnd = selection.units[0]!.addedAt + this.lingerMs;
      const ready =
        selection.full ||
        this.flushing > 0 ||
        this.roomWaiters.length > 0 ||
        this.pending.length >= this.maxBuffered ||
        now >= lingerEnd;
      if (!ready) {
        this.wake(minDefined(selection.wakeAt, lingerEnd));
        return;
      }
      this.send(selection.units, now);
    }
  }

  private send(units: Unit<T>[], now: number): void {
    // the batch is usually the front of the buffer: cut it off; else filter it out
    let front = 0;
    while (front < units.length && this.pending[front] === units[front]) front++;
    if (front === units.length) this.pending.splice(0, front);
    else {
      const chosen = new Set(units);
      this.pending = this.pending.filter((u) => !chosen.has(u));
    }
    const limiter = this.options.rateLimiter;
    for (const u of units) {
      u.attempts++;
      limiter?.take(u.shard, 1, u.size, now);
      this.order.acquire(u.slots);
    }
    this.inFlight++;
    this.inFlightUnits += units.length;
    this.counters.requests++;
    this.wakeRoom();
    const command = new PutRecordsCommand({ ...this.stream, Records: units.map((u) => u.entry) });
    this.options.kinesis
      .send(command)
      .then(
        (out) => this.onResponse(units, out as PutRecordsCommandOutput),
        (error: unknown) => this.onRequestError(units, error),
      )
      .finally(() => {
        this.inFlight--;
        this.inFlightUnits -= units.length;
        for (const u of units) this.order.release(u.slots);
        this.settled();
      });
  }

  private onResponse(units: Unit<T>[], out: PutRecordsCommandOutput): void {
    const results = out?.Records ?? [];
    for (let i = 0; i < units.length; i++) {
      const u = units[i]!;
      const r = results[i];
      if (r && !r.ErrorCode && r.SequenceNumber) {
        this.acknowledged(u, { sequenceNumber: r.SequenceNumber, shardId: r.ShardId ?? '' });
      } else {
        if (r?.ErrorCode && isThrottle(r.ErrorCode)) this.options.rateLimiter?.throttled(u.shard);
        const outcome = entryOutcome(r === undefined ? undefined : (r.ErrorCode ?? 'MissingSequenceNumber'));
        this.retryOrFail(
          u,
          r?.ErrorCode ?? 'MissingResult',
          r?.ErrorMessage ?? 'no result for this entry',
          outcome,
        );
      }
    }
  }

  private acknowledged(u: Unit<T>, info: SentInfo): void {
    const again = this.callWith(this.options.resend, u.record, info);
    if (again && again.length > 0 && this.stopped) {
      // it must go again, and cannot now: not settled
      this.unitUnsent(u);
      return;
    }
    if (again && again.length > 0) {
      // in its place: same ordinal (sorted before the later records), keys held until this settles
      this.counters.resent += again.length;
      const now = Date.now();
      for (let j = again.length - 1; j >= 0; j--) {
        const record = again[j]!;
        const checked = checkRecord(record, u.ordinal, this.maxRecordBytes);
        this.insert(this.unitOf(record, checked, u.ordinal, now));
      }
      // replaced by its records (which hold its keys now)
      this.order.unhold(u.slots);
      return;
    }
    this.order.unhold(u.slots);
    this.counters.sent++;
    this.callWith(this.options.onSent, u.record, info);
  }

  private onRequestError(units: Unit<T>[], error: unknown): void {
    const e = error as { name?: string; message?: string };
    const code = e?.name ?? 'Error';
    const outcome = requestOutcome(error);
    if (outcome === 'fatal' && !this.stopped) {
      const cause =
        error instanceof Error ? error : new Error(typeof error === 'string' ? error : String(error));
      // the records of this request were not stored: unsent, as is everything buffered
      for (const u of units) this.unitUnsent(u);
      this.halt(new PutRecordsFailedError(code, e?.message ?? String(error), 1, cause));
      return;
    }
    if (isThrottle(error)) for (const u of units) this.options.rateLimiter?.throttled(u.shard);
    for (const u of units) this.retryOrFail(u, code, e?.message ?? String(error), outcome);
  }

  private retryOrFail(u: Unit<T>, code: string, message: string, outcome: 'retry' | 'fail' | 'fatal'): void {
    if (this.stopped) {
      this.unitUnsent(u);
      return;
    }
    if (outcome === 'retry') {
      u.retry ??= new RecordRetry(this.options.retry);
      const delay = u.retry.next();
      if (delay !== undefined) {
        this.counters.retries++;
        u.notBefore = Date.now() + delay;
        this.insert(u);
        return;
      }
    }
    this.unitFailed(u, new PutRecordsFailedError(code, message, u.attempts));
  }

  /** Puts a unit back in the buffer at its place in arrival order. */
  private insert(u: Unit<T>): void {
    let lo = 0;
    let hi = this.pending.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.pending[mid]!.ordinal < u.ordinal) lo = mid + 1;
      else hi = mid;
    }
    this.pending.splice(lo, 0, u);
  }

  private wakeRoom(): void {
    while (this.roomWaiters.length > 0 && this.pending.length < this.maxBuffered) {
      this.roomWaiters.shift()!.resolve();
    }
  }

  private settled(): void {
    this.wakeRoom();
    if (this.pending.length === 0 && this.inFlight === 0) {
      this.clearTimer();
      for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    this.pump();
  }
}
