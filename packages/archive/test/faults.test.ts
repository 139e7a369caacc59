import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { type ArchiveMode, ArchiveReader, ArchiveWriter } from '../src/index.js';
import { collect, freshTable, rec, seq, throughProxy } from './helpers.js';

const { clients, endpoints } = localAws();
const dynamodb = clients.dynamodb;
afterAll(() => clients.destroy());

const fast = { baseDelayMs: 5, maxDelayMs: 100, maxAttempts: 30, budgetMs: 30_000 };

describe('faults injected by the proxy', () => {
  it('ALL: UnprocessedItems and throttled BatchWriteItem calls are retried with nothing lost', async () => {
    const tableName = await freshTable(dynamodb, 'ALL');
    // 600 records make at least 24 BatchWriteItem calls: the scheduled rules (first) guarantee UnprocessedItems at
    // the 1st and a throttle at the 2nd, whatever the timing; the random ones add more.
    const p = await throughProxy(endpoints, [
      { operation: 'BatchWriteItem', fault: 'partial', at: [1], entryFailureRate: 0.4 },
      { operation: 'BatchWriteItem', fault: 'throttle', at: [2] },
      { operation: 'BatchWriteItem', fault: 'partial', probability: 0.5, entryFailureRate: 0.4 },
      { operation: 'BatchWriteItem', fault: 'throttle', probability: 0.2 },
    ]);
    try {
      const writer = new ArchiveWriter({ dynamodb: p.dynamodb, tableName, mode: 'ALL', retry: fast });
      const records = Array.from({ length: 600 }, (_, i) => rec(`k-${i % 50}`, seq(i)));
      const result = await writer.write(records);
      expect(result.failed).toEqual([]);
      expect(result.written).toBe(600);
      const counts = p.proxy.counts();
      expect(counts.failedEntries).toBeGreaterThan(0);
      expect(counts.injected.throttle ?? 0).toBeGreaterThan(0);
      const reader = new ArchiveReader({ dynamodb, tableName, mode: 'ALL', consistentRead: true });
      const stored = await collect(reader.scan());
      expect(new Set(stored.map((r) => r.sequenceNumber))).toEqual(
        new Set(records.map((r) => r.sequenceNumber)),
      );
    } finally {
      await p.close();
    }
  });

  it('ALL: UnprocessedItems keyed by another name of the table (its ARN) are still retried', async () => {
    const tableName = await freshTable(dynamodb, 'ALL');
    const p = await throughProxy(endpoints, [
      { operation: 'BatchWriteItem', fault: 'partial', probability: 1, entryFailureRate: 0.4, maxCount: 3 },
    ]);
    // The response names the table by its ARN although the request named it by its name.
    let rekeyed = 0;
    p.dynamodb.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        const output = out.output as { UnprocessedItems?: Record<string, unknown[]> };
        const items = output.UnprocessedItems?.[tableName];
        if (items?.length) {
          output.UnprocessedItems = { [`arn:aws:dynamodb:us-east-1:123456789012:table/${tableName}`]: items };
          rekeyed++;
        }
        return out;
      },
      { step: 'initialize', name: 'unprocessedUnderArn' },
    );
    try {
      const writer = new ArchiveWriter({ dynamodb: p.dynamodb, tableName, mode: 'ALL', retry: fast });
      const records = Array.from({ length: 75 }, (_, i) => rec(`k-${i}`, seq(i)));
      const result = await writer.write(records);
      expect(rekeyed).toBeGreaterThan(0);
      expect(result).toMatchObject({ written: 75, failed: [] });
      const reader = new ArchiveReader({ dynamodb, tableName, mode: 'ALL', consistentRead: true });
      expect((await collect(reader.scan())).length).toBe(75);
    } finally {
      await p.close();
    }
  });

  it('LATEST: throttled and failing conditional writes are retried with nothing lost', async () => {
    const tableName = await freshTable(dynamodb, 'LATEST');
    const p = await throughProxy(endpoints, [
      { operation: 'UpdateItem', fault: 'throttle', at: [1, 5] }, // guaranteed; the random rules add more
      { operation: 'UpdateItem', fault: 'throttle', probability: 0.3 },
      { operation: 'UpdateItem', fault: 'internal', probability: 0.1 },
    ]);
    try {
      const writer = new ArchiveWriter({ dynamodb: p.dynamodb, tableName, mode: 'LATEST', retry: fast });
      const records = Array.from({ length: 300 }, (_, i) => rec(`k-${i % 80}`, seq(i)));
      const result = await writer.write(records);
      expect(result.failed).toEqual([]);
      expect(result.written).toBe(80);
      expect(result.compacted).toBe(220);
      expect(p.proxy.counts().injected.throttle ?? 0).toBeGreaterThan(0);
      const reader = new ArchiveReader({ dynamodb, tableName, mode: 'LATEST', consistentRead: true });
      for (let k = 0; k < 80; k += 13) {
        expect((await reader.get(`k-${k}`))?.sequenceNumber).toBe(seq(k + 80 * Math.floor((299 - k) / 80)));
      }
    } finally {
      await p.close();
    }
  });

  it.each(['ALL', 'LATEST'] as ArchiveMode[])(
    '%s: what still fails after the retries is returned in failed',
    async (mode) => {
      const tableName = await freshTable(dynamodb, mode);
      const p = await throughProxy(endpoints, [{ fault: 'throttle', probability: 1 }]);
      try {
        const writer = new ArchiveWriter({
          dynamodb: p.dynamodb,
          tableName,
          mode,
          retry: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 2 },
        });
        const records = Array.from({ length: 40 }, (_, i) => rec(`k-${i}`, seq(i)));
        const result = await writer.write(records);
        expect(result.written).toBe(0);
        expect(result.failed.length).toBe(40);
        expect(result.failed.every((f) => f.error.code === 'WRITE_FAILED')).toBe(true);
        expect(result.failed.map((f) => f.sequenceNumber)).toEqual(records.map((r) => r.sequenceNumber));
      } finally {
        await p.close();
      }
    },
  );

  it('ALL: items left unprocessed after the retries are returned in failed', async () => {
    const tableName = await freshTable(dynamodb, 'ALL');
    const p = await throughProxy(endpoints, [
      { operation: 'BatchWriteItem', fault: 'partial', probability: 1, entryFailureRate: 1 },
    ]);
    try {
      const writer = new ArchiveWriter({
        dynamodb: p.dynamodb,
        tableName,
        mode: 'ALL',
        retry: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 3 },
      });
      const result = await writer.write(Array.from({ length: 30 }, (_, i) => rec('k', seq(i))));
      expect(result.written).toBe(0);
      expect(result.failed.length).toBe(30);
      expect(result.failed[0]!.error.message).toMatch(/unprocessed/);
    } finally {
      await p.close();
    }
  });
});
