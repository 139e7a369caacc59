import { hashKeyOf, type ShardMap } from '@kinesis-archive/agg';
import { InvalidReplayOptionError } from './errors.js';

/** Per-shard write limits. Kinesis allows 1,000 records/s and 1 MiB/s per shard. */
export interface RateLimit {
  /** Kinesis records per second per shard. Default 1,000. */
  recordsPerSecond?: number | undefined;
  /** Bytes (data + partition key) per second per shard. Default 1,048,576. */
  bytesPerSecond?: number | undefined;
}

/** A token bucket: `rate` tokens per second, holding at most `rate` (one second's worth). */
class Bucket {
  tokens: number;
  private last: number;

  constructor(
    readonly rate: number,
    now: number,
  ) {
    this.tokens = rate;
    this.last = now;
  }

  refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) * this.rate) / 1000);
      this.last = now;
    }
  }

  /** Tokens `cost` needs before it may go (a cost larger than the bucket needs a full bucket). */
  need(cost: number): number {
    return Math.min(cost, this.rate);
  }

  /** Milliseconds until `cost` (plus `reserved` already promised) is affordable; 0 when it is now. */
  waitMs(cost: number, reserved: number): number {
    const missing = this.need(cost) + reserved - this.tokens;
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.rate);
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new InvalidReplayOptionError(name, value, 'a positive finite number');
  }
  return value;
}

/**
 * Token buckets per shard, for records/s and bytes/s, so that a writer stays under the shard limits and leaves
 * room for the stream's live producers. The shard of a record comes from a {@link ShardMap} and its hash key
 * (explicit hash key, else MD5 of the partition key); without a map every record shares one bucket pair.
 *
 * Buckets start full (one second's worth may go at once) and refill continuously.
 *
 * @example
 * ```ts
 * const limiter = new ShardRateLimiter({ recordsPerSecond: 500 }, await ShardMap.load(kinesis, { streamName }));
 * ```
 */
export class ShardRateLimiter {
  /** Records per second per shard in force. */
  readonly recordsPerSecond: number;
  /** Bytes per second per shard in force. */
  readonly bytesPerSecond: number;
  private readonly shardMap: ShardMap | undefined;
  private readonly buckets = new Map<string, { records: Bucket; bytes: Bucket }>();
  private readonly clock: () => number;

  /** @throws {@link InvalidReplayOptionError} for a limit that is not a positive number. */
  constructor(limit: RateLimit = {}, shardMap?: ShardMap, clock: () => number = Date.now) {
    this.recordsPerSecond = positive('rateLimit.recordsPerSecond', limit.recordsPerSecond, 1_000);
    this.bytesPerSecond = positive('rateLimit.bytesPerSecond', limit.bytesPerSecond, 1_048_576);
    this.shardMap = shardMap;
    this.clock = clock;
  }

  /** The shard (bucket key) of a record: its shard id from the map, `''` without a map or outside it. */
  shardOf(partitionKey: string, explicitHashKey?: string): string {
    if (!this.shardMap) return '';
    return this.shardMap.shardFor(hashKeyOf(partitionKey, explicitHashKey))?.shardId ?? '';
  }

  /** The current time of the limiter's clock. */
  now(): number {
    return this.clock();
  }

  private bucketsOf(shard: string, now: number): { records: Bucket; bytes: Bucket } {
    let b = this.buckets.get(shard);
    if (!b) {
      b = { records: new Bucket(this.recordsPerSecond, now), bytes: new Bucket(this.bytesPerSecond, now) };
      this.buckets.set(shard, b);
    }
    b.records.refill(now);
    b.bytes.refill(now);
    return b;
  }

  /**
   * Milliseconds until one more record of `bytes` can go to `shard`, given `reserved` records and bytes already
   * picked for that shard but not yet {@link take | taken}; 0 when it can go now.
   */
  waitMs(shard: string, bytes: number, reserved = { records: 0, bytes: 0 }, now = this.clock()): number {
    const b = this.bucketsOf(shard, now);
    return Math.max(b.records.waitMs(1, reserved.records), b.bytes.waitMs(bytes, reserved.bytes));
  }

  /**
   * Kinesis throttled a record of `shard`: its budget is emptied and set 100 ms in debt, so that the shard
   * gets a rest before more is sent to it. Other writers (live producers, other workers) share the shard.
   */
  throttled(shard: string, now = this.clock()): void {
    const b = this.bucketsOf(shard, now);
    b.records.tokens = Math.min(b.records.tokens, -b.records.rate / 10);
    b.bytes.tokens = Math.min(b.bytes.tokens, -b.bytes.rate / 10);
  }

  /** Spends the tokens of `records` records totalling `bytes` on `shard` (the balance may go below zero). */
  take(shard: string, records: number, bytes: number, now = this.clock()): void {
    const b = this.bucketsOf(shard, now);
    b.records.tokens -= records;
    b.bytes.tokens -= bytes;
  }
}
