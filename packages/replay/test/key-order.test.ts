import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { seededRandom } from '@kinesis-archive/local';
import { describe, expect, it } from 'vitest';
import {
  type KinesisClientLike,
  KinesisWriter,
  type KinesisWriterOptions,
  type WriterRecord,
} from '../src/index.js';

/**
 * A fake PutRecords (the writer's per-key order is pure logic): each entry fails with a throttle at the seeded
 * rate, answers come back after a seeded delay (so requests overtake each other), and the entries it accepted are
 * logged in acceptance order.
 */
function fakeKinesis(seed: number, failRate: number) {
  const random = seededRandom(seed);
  const accepted: { key: string; data: string }[] = [];
  let seq = 0;
  const client: KinesisClientLike = {
    async send(command: object) {
      if (!(command instanceof PutRecordsCommand)) throw new Error('unexpected command');
      const entries = command.input.Records ?? [];
      const outcomes = entries.map(() => random() < failRate);
      await new Promise((r) => setTimeout(r, Math.floor(random() * 5)));
      return {
        FailedRecordCount: outcomes.filter(Boolean).length,
        Records: entries.map((e, i) => {
          if (outcomes[i])
            return { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' };
          accepted.push({ key: e.PartitionKey!, data: Buffer.from(e.Data!).toString() });
          return { SequenceNumber: String(++seq), ShardId: 'shardId-000000000000' };
        }),
      };
    },
  };
  return { client, accepted };
}

/** A writer on the fake that sends at once and retries fast and often (the fake's failures are throttles). */
function fastWriter(kinesis: KinesisClientLike, options: Partial<KinesisWriterOptions<WriterRecord>>) {
  return new KinesisWriter<WriterRecord>({
    kinesis,
    streamName: 's',
    lingerMs: 1,
    retry: { maxAttempts: 50, baseDelayMs: 1, maxDelayMs: 5, budgetMs: 120_000 },
    ...options,
  });
}

describe('KinesisWriter per-key order', () => {
  it('keeps each key in order through seeded partial failures and overtaking requests; tracks only the keys in it', async () => {
    const { client, accepted } = fakeKinesis(42, 0.2);
    const writer = fastWriter(client, {
      maxBatchRecords: 50,
      maxBufferedRecords: 200,
    });
    let peakKeys = 0;
    const total = 3_000;
    for (let i = 0; i < total; i++) {
      // 40 keys, a sequence number per key in the payload
      await writer.put({ partitionKey: `k${i % 40}`, data: `${Math.floor(i / 40)}` });
      peakKeys = Math.max(peakKeys, writer.trackedKeys);
    }
    const stats = await writer.close();
    expect(stats.failed).toEqual([]);
    expect(stats.sent).toBe(total);
    // the schedule made retries happen, so the order was at stake
    expect(stats.retries).toBeGreaterThan(100);
    const next = new Map<string, number>();
    for (const { key, data } of accepted) {
      expect(Number(data)).toBe(next.get(key) ?? 0);
      next.set(key, Number(data) + 1);
    }
    expect(accepted).toHaveLength(total);
    expect(peakKeys).toBeLessThanOrEqual(40);
    expect(writer.trackedKeys).toBe(0);
  });

  it('keeps its key map bounded by the keys in the writer, not the keys of the source', async () => {
    const { client } = fakeKinesis(9, 0.1);
    const writer = fastWriter(client, {
      maxBufferedRecords: 500,
    });
    let peak = 0;
    // 30,000 distinct keys, each used once
    for (let i = 0; i < 30_000; i++) {
      await writer.put({ partitionKey: `key-${i}`, data: 'x' });
      peak = Math.max(peak, writer.trackedKeys);
    }
    expect((await writer.close()).sent).toBe(30_000);
    // at most 500 buffered + 4 x 500 in flight (+ the one being put) keys are tracked at once
    expect(peak).toBeLessThanOrEqual(2_501);
    expect(peak).toBeGreaterThan(0);
    expect(writer.trackedKeys).toBe(0);
  });

  it('orders records with several ordering keys (a key listed twice counts once) and frees every key once sent', async () => {
    const { client, accepted } = fakeKinesis(7, 0.3);
    const writer = fastWriter(client, {
      maxBatchRecords: 10,
    });
    const total = 600;
    for (let i = 0; i < total; i++) {
      const a = `a${i % 7}`;
      const b = `b${i % 5}`;
      await writer.put({ partitionKey: `r${i}`, data: String(i), orderingKeys: [a, b, a] });
    }
    const stats = await writer.close();
    expect(stats.sent).toBe(total);
    // every pair of records sharing an ordering key was accepted in put order
    const at = new Map(accepted.map((r, pos) => [Number(r.data), pos]));
    for (let i = 0; i < total; i++) {
      for (const step of [7, 5]) {
        if (i + step < total) expect(at.get(i)!).toBeLessThan(at.get(i + step)!);
      }
    }
    expect(writer.trackedKeys).toBe(0);
  });

  it('with ordered: false tracks no key', async () => {
    const { client } = fakeKinesis(1, 0.2);
    const writer = fastWriter(client, {
      ordered: false,
    });
    for (let i = 0; i < 500; i++) {
      await writer.put({ partitionKey: `k${i % 10}`, data: String(i) });
      expect(writer.trackedKeys).toBe(0);
    }
    expect((await writer.close()).sent).toBe(500);
  });
});

describe('KinesisWriter key tracking on abort', () => {
  it('frees the keys of buffered records that leave unsent', async () => {
    const { client } = fakeKinesis(3, 0);
    const controller = new AbortController();
    const writer = new KinesisWriter<WriterRecord>({
      kinesis: client,
      streamName: 's',
      lingerMs: 60_000,
      signal: controller.signal,
    });
    for (let i = 0; i < 50; i++) await writer.put({ partitionKey: `k${i}`, data: 'x' });
    expect(writer.trackedKeys).toBe(50);
    controller.abort();
    expect(writer.trackedKeys).toBe(0);
    expect(writer.stats.unsent).toHaveLength(50);
  });
});
