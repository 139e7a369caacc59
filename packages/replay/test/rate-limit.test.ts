import { readStream } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { replay, ShardRateLimiter } from '../src/index.js';
import { createStream, makeRecords } from './helpers.js';

const { clients } = localAws();
const kinesis = clients.kinesis;
afterAll(() => clients.destroy());

describe('ShardRateLimiter (pure logic, fake clock)', () => {
  it('lets a full second go at once, then refills at the rate, for records and bytes', () => {
    let now = 0;
    const limiter = new ShardRateLimiter(
      { recordsPerSecond: 10, bytesPerSecond: 1_000 },
      undefined,
      () => now,
    );
    expect(limiter.waitMs('', 10)).toBe(0);
    limiter.take('', 10, 100);
    expect(limiter.waitMs('', 10)).toBe(100); // one record refills in 100 ms
    now = 100;
    expect(limiter.waitMs('', 10)).toBe(0);
    limiter.take('', 1, 900);
    expect(limiter.waitMs('', 100)).toBe(100); // 0 records and 0 bytes left
    now = 200; // 1 record and 200 bytes available
    expect(limiter.waitMs('', 100)).toBe(0);
    expect(limiter.waitMs('', 250)).toBe(50); // bytes bind
    expect(limiter.waitMs('', 10, { records: 1, bytes: 10 })).toBe(100); // records already reserved bind
  });

  it('lets a record larger than a second of bytes go on a full bucket', () => {
    let now = 0;
    const limiter = new ShardRateLimiter({ bytesPerSecond: 100 }, undefined, () => now);
    expect(limiter.waitMs('', 5_000)).toBe(0);
    limiter.take('', 1, 5_000);
    now = 1_000;
    expect(limiter.waitMs('', 5_000)).toBeGreaterThan(0);
  });

  it('rejects a limit that is not a positive number', () => {
    expect(() => new ShardRateLimiter({ recordsPerSecond: 0 })).toThrow(/recordsPerSecond/);
  });
});

describe('replay rate limit', () => {
  it('holds a low per-shard limit (50 records/s), measured on the stream', async () => {
    const streamName = await createStream(kinesis, 1);
    const records = makeRecords(200, 200, 32);
    const started = Date.now();
    const result = await replay({
      source: records,
      kinesis,
      streamName,
      rateLimit: { recordsPerSecond: 50 },
    });
    const elapsed = Date.now() - started;
    expect(result.ok).toBe(true);
    // 50 go at once (a full bucket), the other 150 at 50/s: at least 3 s.
    expect(elapsed).toBeGreaterThanOrEqual(2_900);
    // Measured on the stream: the arrival timestamps of the records after the first second.
    const [shard] = await readStream(kinesis, streamName);
    const times = (shard?.records ?? []).map((r) => r.ApproximateArrivalTimestamp!.getTime());
    expect(times).toHaveLength(200);
    const first = times[0]!;
    const late = times.filter((t) => t >= first + 1_000);
    const span = (Math.max(...times) - (first + 1_000)) / 1000;
    // Records after the first second arrive at no more than the limit (plus one batch of slack).
    expect(late.length).toBeLessThanOrEqual(50 * span + 50);
    // And in any window of one second, never more than two buckets' worth, give or take what refills while
    // kinesis-mock stamps a request (it stamps arrival when it processes the request, up to ~100 ms after the
    // send): 100 + 50 x 0.1. Without the limiter all 200 arrive within a second.
    for (const t of times)
      expect(times.filter((u) => u >= t && u < t + 1_000).length).toBeLessThanOrEqual(105);
  });
});
