import { PutRecordsCommand, type PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { AbortError, Backoff, type BackoffOptions, isTransientError } from '@kinesis-archive/core';
import { InvalidReplayOptionError, PutRecordsFailedError, WriterClosedError } from './errors.js';
import type { ShardRateLimiter } from './rate-limiter.js';
import type { KinesisClientLike } from './types.js';
import { checkRecord, DEFAULT_MAX_RECORD_BYTES } from './validate.js';

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
  /** Per-shard rate limits; none by default. */
  rateLimiter?: ShardRateLimiter | undefined;
  /** Stops sending: buffered records are not sent (see {@link KinesisWriterStats.unsent}); `put` rejects. */
  signal?: AbortSignal | undefined;
  /** Called once per record Kinesis acknowledged. */
  onSent?: ((record: T, info: SentInfo) => void) | undefined;
  /** Called once per record the writer gave up on (also listed in {@link KinesisWriterStats.failed}). */
  onFailed?: ((record: T, error: Error) => void) | undefined;
}

/** Counters and outcomes of a {@link KinesisWriter}. */
export interface KinesisWriterStats<T> {
  /** Records acknowledged by Kinesis. */
  sent: number;
  /** Entries re-sent after a failure. */
  retries: number;
  /** `PutRecords` requests made. */
  requests: number;
  /** Records given up on, with their errors. */
  failed: WriterFailure<T>[];
  /** Records never acknowledged because the writer was aborted (not failed: they may be sent again). */
  unsent: T[];
}

interface Unit<T> {
  record: T;
  entry: { PartitionKey: string; Data: Uint8Array; ExplicitHashKey?: string };
  size: number;
  keys: readonly string[];
  shard: string;
  ordinal: number;
  addedAt: number;
  notBefore: number;
  attempts: number;
  backoff: Backoff | undefined;
}

interface Selection<T> {
  units: Unit<T>[];
  full: boolean;
  wakeAt: number | undefined;
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

function minDefined(a: number | undefined, b: number): number {
  return a === undefined ? b : Math.min(a, b);
}

/**
 * Writes records to a Kinesis stream with `PutRecords`: batches of up to 500 entries and 5 MiB (exact sizes, partition
 * keys included), several requests in flight, per-key order kept across partial failures, only failed entries
 * retried with jittered backoff, optional per-shard rate limits. Invalid records and records that still fail after
 * the retries are reported (`onFailed`, `stats.failed`), never dropped silently.
 *
 * `put` resolves once the record is buffered (it waits when the buffer is full); `flush` resolves once every
 * buffered record is acknowledged or given up on; `close` flushes and returns the stats.
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
  private readonly ordered: boolean;
  private readonly concurrency: number;
  private readonly maxBatchRecords: number;
  private readonly maxBatchBytes: number;
  private readonly maxRecordBytes: number;
  private readonly maxBuffered: number;
  private readonly lingerMs: number;
  private readonly stream: { StreamName: string } | { StreamARN: string };
  private pending: Unit<T>[] = [];
  private readonly inflightKeys = new Map<string, number>();
  private inFlight = 0;
  private ordinal = 0;
  private flushing = 0;
  private closed = false;
  private aborted = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = 0;
  private roomWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private idleWaiters: (() => void)[] = [];
  private readonly counters: KinesisWriterStats<T> = {
    sent: 0,
    retries: 0,
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
    this.ordered = options.ordered ?? true;
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
      if (signal.aborted) this.abort();
      else signal.addEventListener('abort', () => this.abort(), { once: true });
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

  private inFlightUnits = 0;

  /**
   * Buffers a record for sending. Resolves once it is buffered (waiting while the buffer is full). An invalid
   * record (bad partition key or explicit hash key, too large) is reported as failed at once, and `put` resolves.
   *
   * @throws {@link WriterClosedError} after `close`, `AbortError` (of core) once the signal fired.
   */
  async put(record: T): Promise<void> {
    if (this.aborted) throw new AbortError(this.options.signal?.reason);
    if (this.closed) throw new WriterClosedError();
    while (this.pending.length >= this.maxBuffered) {
      await new Promise<void>((resolve, reject) => this.roomWaiters.push({ resolve, reject }));
    }
    const ordinal = this.ordinal++;
    let checked: ReturnType<typeof checkRecord>;
    try {
      checked = checkRecord(record, ordinal, this.maxRecordBytes);
    } catch (error) {
      this.fail(record, error as Error);
      return;
    }
    const entry: Unit<T>['entry'] = { PartitionKey: checked.partitionKey, Data: checked.data };
    if (checked.explicitHashKey !== undefined) entry.ExplicitHashKey = checked.explicitHashKey;
    const now = Date.now();
    this.pending.push({
      record,
      entry,
      size: checked.size,
      keys: record.orderingKeys ?? [checked.partitionKey],
      shard: this.options.rateLimiter?.shardOf(checked.partitionKey, checked.explicitHashKey) ?? '',
      ordinal,
      addedAt: now,
      notBefore: 0,
      attempts: 0,
      backoff: undefined,
    });
    if (this.inFlight < this.concurrency) {
      if (this.pending.length >= this.maxBatchRecords) this.pump();
      else this.wake(now + this.lingerMs);
    }
  }

  /** Sends everything buffered; resolves when every record is acknowledged or given up on. */
  async flush(): Promise<void> {
    this.flushing++;
    try {
      this.pump();
      await this.idle();
      if (this.callbackError) throw this.callbackError.error;
    } finally {
      this.flushing--;
    }
  }

  /** Flushes, then closes the writer (further `put`s throw). Returns the stats. */
  async close(): Promise<KinesisWriterStats<T>> {
    this.closed = true;
    await this.flush();
    this.clearTimer();
    return this.counters;
  }

  private idle(): Promise<void> {
    if (this.pending.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    for (const u of this.pending) this.counters.unsent.push(u.record);
    this.pending = [];
    this.clearTimer();
    const error = new AbortError(this.options.signal?.reason);
    for (const w of this.roomWaiters.splice(0)) w.reject(error);
    this.settled();
  }

  private fail(record: T, error: Error): void {
    this.counters.failed.push({ record, error });
    this.callback(() => this.options.onFailed?.(record, error));
  }

  /** Runs a user callback; its first error is rethrown by `flush`/`close`, the writer itself carries on. */
  private callback(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.callbackError ??= { error };
    }
  }

  private callbackError: { error: unknown } | undefined;

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
    while (!this.aborted && this.inFlight < this.concurrency && this.pending.length > 0) {
      const now = Date.now();
      const selection = this.select(now);
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

  /** Picks the next batch, in buffer order, skipping records that must wait. */
  private select(now: number): Selection<T> {
    const blocked = new Set<string>(this.ordered ? this.inflightKeys.keys() : []);
    const reserved = new Map<string, { records: number; bytes: number }>();
    const limiter = this.options.rateLimiter;
    const units: Unit<T>[] = [];
    let bytes = 0;
    let full = false;
    let wakeAt: number | undefined;
    for (const u of this.pending) {
      if (units.length >= this.maxBatchRecords || bytes + u.size > this.maxBatchBytes) {
        full = true;
        break;
      }
      let skip = false;
      if (u.notBefore > now) {
        skip = true;
        wakeAt = minDefined(wakeAt, u.notBefore);
      } else if (this.ordered && u.keys.some((k) => blocked.has(k))) {
        skip = true;
      } else if (limiter) {
        const r = reserved.get(u.shard) ?? { records: 0, bytes: 0 };
        const wait = limiter.waitMs(u.shard, u.size, r, now);
        if (wait > 0) {
          skip = true;
          wakeAt = minDefined(wakeAt, now + wait);
        } else {
          r.records++;
          r.bytes += u.size;
          reserved.set(u.shard, r);
        }
      }
      if (this.ordered) for (const k of u.keys) blocked.add(k);
      if (skip) continue;
      units.push(u);
      bytes += u.size;
    }
    return { units, full, wakeAt };
  }

  private send(units: Unit<T>[], now: number): void {
    const chosen = new Set(units);
    this.pending = this.pending.filter((u) => !chosen.has(u));
    const limiter = this.options.rateLimiter;
    for (const u of units) {
      u.attempts++;
      limiter?.take(u.shard, 1, u.size, now);
      if (this.ordered) for (const k of u.keys) this.inflightKeys.set(k, (this.inflightKeys.get(k) ?? 0) + 1);
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
        if (this.ordered) {
          for (const u of units) {
            for (const k of u.keys) {
              const n = (this.inflightKeys.get(k) ?? 1) - 1;
              if (n <= 0) this.inflightKeys.delete(k);
              else this.inflightKeys.set(k, n);
            }
          }
        }
        this.settled();
      });
  }

  private onResponse(units: Unit<T>[], out: PutRecordsCommandOutput): void {
    const results = out?.Records ?? [];
    for (let i = 0; i < units.length; i++) {
      const u = units[i]!;
      const r = results[i];
      if (r && !r.ErrorCode && r.SequenceNumber) {
        this.counters.sent++;
        this.callback(() =>
          this.options.onSent?.(u.record, { sequenceNumber: r.SequenceNumber!, shardId: r.ShardId ?? '' }),
        );
      } else {
        const code = r?.ErrorCode ?? 'MissingResult';
        const retryable = r === undefined || isTransientError(code);
        this.retryOrFail(u, code, r?.ErrorMessage ?? 'no result for this entry', retryable, undefined);
      }
    }
  }

  private onRequestError(units: Unit<T>[], error: unknown): void {
    const e = error as { name?: string; message?: string };
    const code = e?.name ?? 'Error';
    const retryable = isTransientError(error);
    for (const u of units) this.retryOrFail(u, code, e?.message ?? String(error), retryable, error);
  }

  private retryOrFail(u: Unit<T>, code: string, message: string, retryable: boolean, cause: unknown): void {
    if (this.aborted) {
      this.counters.unsent.push(u.record);
      return;
    }
    if (retryable) {
      u.backoff ??= new Backoff({
        maxAttempts: 10,
        baseDelayMs: 100,
        budgetMs: 60_000,
        ...this.options.retry,
      });
      const delay = u.backoff.nextDelay();
      if (delay !== undefined) {
        u.backoff.retries++;
        this.counters.retries++;
        u.notBefore = Date.now() + delay;
        this.insert(u);
        return;
      }
    }
    this.fail(u.record, new PutRecordsFailedError(code, message, u.attempts, cause));
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
