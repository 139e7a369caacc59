import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { PutRecordsFailedError, type ReplayRecord, replay } from '../src/index.js';
import {
  createStream,
  expectSameContent,
  faultProxies,
  iterate,
  makeRecords,
  readStream,
} from './helpers.js';

const { clients, endpoints } = localAws();
const kinesis = clients.kinesis;
afterAll(() => clients.destroy());

const proxies = faultProxies(endpoints, 7);
const throughProxy = proxies.through;

const fastRetry = { baseDelayMs: 10, maxDelayMs: 100, maxAttempts: 40, budgetMs: 30_000 };

describe('replay under injected faults', () => {
  it('stays exact and in order per key with 20% partial PutRecords failures and throttling', async () => {
    const streamName = await createStream(kinesis, 2);
    // 480 records in batches of 100 make at least 5 PutRecords requests: the scheduled rules (first) guarantee a
    // partial failure at the 1st and 3rd and a throttle at the 2nd, whatever the timing; the random ones add more.
    const faulty = await throughProxy([
      { operation: 'PutRecords', fault: 'partial', at: [1, 3], entryFailureRate: 0.2 },
      { operation: 'PutRecords', fault: 'throttle', at: [2] },
      { operation: 'PutRecords', fault: 'partial', probability: 0.6, entryFailureRate: 0.2 },
      { operation: 'PutRecords', fault: 'throttle', probability: 0.2 },
      {
        operation: 'PutRecords',
        fault: 'partial',
        probability: 0.2,
        entryFailureRate: 0.2,
        errorCode: 'InternalFailure',
      },
    ]);
    // Few keys, so that a failed entry often has later records of its key waiting behind it.
    const records = makeRecords(480, 60, 100);
    const result = await replay({
      source: iterate(records),
      kinesis: faulty,
      streamName,
      writer: { retry: fastRetry, maxBatchRecords: 100 },
    });
    expect(result.failed).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.sent).toBe(480);
    expect(result.retries).toBeGreaterThan(0);
    const counts = proxies.proxy.counts();
    expect(counts.failedEntries).toBeGreaterThan(0);
    expect(counts.injected.throttle ?? 0).toBeGreaterThan(0);
    expectSameContent(records, await readStream(kinesis, streamName));
  });

  it('stays exact with aggregate: true under partial failures', async () => {
    const streamName = await createStream(kinesis, 2);
    const faulty = await throughProxy([
      { operation: 'PutRecords', fault: 'partial', at: [1], entryFailureRate: 0.5 }, // guarantees a retry
      { operation: 'PutRecords', fault: 'partial', probability: 0.5, entryFailureRate: 0.5 },
      { operation: 'PutRecords', fault: 'throttle', probability: 0.2 },
    ]);
    const records = makeRecords(3_000, 50, 100);
    const result = await replay({
      source: iterate(records),
      kinesis: faulty,
      streamName,
      aggregate: true,
      writer: { retry: fastRetry, maxRecordBytes: 20_000 },
    });
    expect(result.ok).toBe(true);
    expect(result.retries).toBeGreaterThan(0);
    expectSameContent(records, await readStream(kinesis, streamName));
  });

  it('returns a record that always fails in failed, with its error, after the configured attempts', async () => {
    const streamName = await createStream(kinesis, 1);
    const faulty = await throughProxy([
      { operation: 'PutRecords', fault: 'partial', probability: 1, entryFailureRate: 1 },
    ]);
    const record = { partitionKey: 'doomed', data: Buffer.from([1, 2, 3]) };
    const result = await replay({
      source: [record],
      kinesis: faulty,
      streamName,
      writer: { retry: { ...fastRetry, maxAttempts: 4 } },
    });
    expect(result.ok).toBe(false);
    expect(result.sent).toBe(0);
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]!.record).toEqual({ partitionKey: 'doomed' });
    expect(result.failed[0]!.error).toMatchObject({
      code: 'PUT_RECORDS_FAILED',
      details: { errorCode: 'ProvisionedThroughputExceededException', attempts: 4 },
    });
    expect(result.retries).toBe(3);
    expect(await readStream(kinesis, streamName)).toHaveLength(0);
  });

  it('stops within one request round when the request itself is refused (no such stream): no more reads, nothing journaled (finding 3)', async () => {
    let yielded = 0;
    async function* endless(): AsyncIterable<ReplayRecord> {
      for (let i = 0; i < 1_000_000; i++) {
        yielded++;
        yield { partitionKey: `k-${i % 100}`, data: Buffer.alloc(1024, i & 0xff) };
      }
    }
    const result = await replay({
      source: endless(),
      kinesis,
      streamName: 'no-such-stream',
      rateLimit: false,
      checkpoint: { load: () => undefined, save: () => undefined },
    });
    expect(result.ok).toBe(false);
    expect(result.stoppedBy).toBeInstanceOf(PutRecordsFailedError);
    expect((result.stoppedBy as PutRecordsFailedError).errorCode).toBe('ResourceNotFoundException');
    expect(result.retries).toBe(0);
    expect(result.sent).toBe(0);
    // nothing failed for good: every record read is unsent, and the cursor is before the first of them
    expect(result.failed).toEqual([]);
    expect(result.unsent).toHaveLength(result.read);
    expect(result.cursors.iterable).toEqual({ done: false });
    // reading stopped with the first answer: at most the read window (2,000) and the one record waiting for room
    expect(yielded).toBeLessThanOrEqual(2_001);
  });
});
