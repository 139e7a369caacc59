import { randomBytes } from 'node:crypto';
import {
  type AttributeValue,
  DeleteItemCommand,
  DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ArchiveMode,
  ArchiveReader,
  ArchiveWriter,
  type CorruptArchiveItemError,
} from '../src/index.js';
import { collect, freshTable, rec, seq } from './helpers.js';

const { clients, endpoints } = localAws();
const dynamodb = clients.dynamodb;
afterAll(() => clients.destroy());

/**
 * A DynamoDB client that adds up what DynamoDB Local says it read: `ScannedCount` of each Query and Scan answer
 * (the items evaluated, before the filter: what a read costs), and the requests sent.
 */
function countingClient() {
  const client = new DynamoDBClient({
    endpoint: endpoints.dynamodb,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const counts = { scanned: 0, requests: 0, limits: [] as (number | undefined)[] };
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { Limit?: number };
      const out = await next(args);
      const output = out.output as { ScannedCount?: number };
      if (typeof output.ScannedCount === 'number') {
        counts.scanned += output.ScannedCount;
        counts.requests++;
        counts.limits.push(input.Limit);
      }
      return out;
    },
    { step: 'initialize', name: 'countScanned' },
  );
  const reset = () => {
    counts.scanned = 0;
    counts.requests = 0;
    counts.limits = [];
  };
  return { client, counts, reset };
}

describe('reads cost what they return', () => {
  const counting = countingClient();
  afterAll(() => counting.client.destroy());
  let reader: ArchiveReader;
  beforeAll(async () => {
    const tableName = await freshTable(dynamodb, 'ALL');
    const writer = new ArchiveWriter({ dynamodb, tableName, mode: 'ALL' });
    const records = [
      ...Array.from({ length: 300 }, (_, i) => rec('hot', seq(i), randomBytes(500))),
      ...Array.from({ length: 60 }, (_, i) => rec(`other-${i}`, seq(1000 + i))),
    ];
    expect((await writer.write(records)).written).toBe(360);
    reader = new ArchiveReader({ dynamodb: counting.client, tableName, mode: 'ALL', consistentRead: true });
  });

  it('get in ALL mode reads one item, not a page', async () => {
    counting.reset();
    const got = await reader.get('hot');
    expect(got?.sequenceNumber).toBe(seq(299));
    expect(counting.counts.scanned).toBe(1);
    expect(counting.counts.limits).toEqual([1]);
  });

  it('query({ limit }) reads limit items', async () => {
    counting.reset();
    const got = await collect(reader.query({ partitionKey: 'hot', limit: 5 }));
    expect(got.map((r) => r.sequenceNumber)).toEqual([0, 1, 2, 3, 4].map(seq));
    expect(counting.counts.scanned).toBe(5);
  });

  it('scan({ limit }) reads limit items, and pageSize sets the items per request', async () => {
    counting.reset();
    expect(await collect(reader.scan({ limit: 7 }))).toHaveLength(7);
    expect(counting.counts.scanned).toBe(7);
    counting.reset();
    expect(await collect(reader.scan({ limit: 10, pageSize: 4 }))).toHaveLength(10);
    expect(counting.counts.limits).toEqual([4, 4, 2]);
    expect(counting.counts.scanned).toBe(10);
  });

  it('rejects a pageSize that is not a positive integer', async () => {
    await expect(collect(reader.scan({ pageSize: 0 }))).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
});

describe.each(['ALL', 'LATEST'] as const)(
  'the TTL filter uses the time of each page (%s)',
  (mode: ArchiveMode) => {
    it('an item that expires while a scan runs is not returned after it expired', async () => {
      // TTL off on the table: DynamoDB never deletes, so only the reader's filter hides expired items.
      const tableName = await freshTable(dynamodb, mode, { ttl: false });
      const expiring = new ArchiveWriter({ dynamodb, tableName, mode, ttlSeconds: 3 });
      const lasting = new ArchiveWriter({ dynamodb, tableName, mode });
      await expiring.write(Array.from({ length: 20 }, (_, i) => rec(`short-${i}`, seq(i))));
      await lasting.write(Array.from({ length: 20 }, (_, i) => rec(`long-${i}`, seq(100 + i))));
      const reader = new ArchiveReader({ dynamodb, tableName, mode, consistentRead: true });
      const seen: { partitionKey: string; at: number; expireAfter: number | undefined }[] = [];
      let waited = false;
      for await (const record of reader.scan({ pageSize: 2 })) {
        seen.push({
          partitionKey: record.partitionKey,
          at: Date.now(),
          expireAfter: record.expireAfter?.getTime(),
        });
        if (!waited) {
          // a slow consumer: the scan's first page was read before the TTL passed, the rest after
          waited = true;
          const expiresAt = record.expireAfter?.getTime() ?? Date.now() + 3000;
          await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 1100));
        }
      }
      const afterWait = seen.slice(2);
      // every record of a later page was read after the TTL: none of them is an expired one
      for (const r of afterWait) expect(r.expireAfter === undefined || r.expireAfter > r.at).toBe(true);
      expect(seen.filter((r) => r.partitionKey.startsWith('long-'))).toHaveLength(20);
    });
  },
);

describe.each(['ALL', 'LATEST'] as const)('a corrupt item (%s)', (mode: ArchiveMode) => {
  let tableName: string;
  let reader: ArchiveReader;
  beforeAll(async () => {
    tableName = await freshTable(dynamodb, mode);
    const writer = new ArchiveWriter({ dynamodb, tableName, mode });
    await writer.write([
      rec('broken', seq(1), randomBytes(500_000)),
      ...Array.from({ length: 10 }, (_, i) => rec(`fine-${i}`, seq(10 + i))),
    ]);
    // lose one chunk of the chunked record
    const chunks = await dynamodb.send(
      new ScanCommand({ TableName: tableName, FilterExpression: 'attribute_exists(chunkIndex)' }),
    );
    const chunk = chunks.Items![0]!;
    const Key: Record<string, AttributeValue> =
      mode === 'ALL'
        ? { partitionKey: chunk.partitionKey!, sequenceKey: chunk.sequenceKey! }
        : { partitionKey: chunk.partitionKey! };
    await dynamodb.send(new DeleteItemCommand({ TableName: tableName, Key }));
    reader = new ArchiveReader({ dynamodb, tableName, mode, consistentRead: true });
  });

  it('get throws CORRUPT_ITEM by default', async () => {
    await expect(reader.get('broken')).rejects.toMatchObject({ code: 'CORRUPT_ITEM' });
  });

  it('a scan reports it and goes on by default; with onCorrupt: throw it stops', async () => {
    const reported: CorruptArchiveItemError[] = [];
    const got = await collect(reader.scan({ onCorruptItem: (e) => void reported.push(e) }));
    expect(got.map((r) => r.partitionKey).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `fine-${i}`).sort(),
    );
    expect(reported).toHaveLength(1);
    expect(reported[0]!.code).toBe('CORRUPT_ITEM');
    expect(reported[0]!.details).toMatchObject({ partitionKey: 'broken' });
    await expect(collect(reader.scan({ onCorrupt: 'throw' }))).rejects.toMatchObject({
      code: 'CORRUPT_ITEM',
    });
  });

  it('without a callback the report is a process warning, never silence', async () => {
    const warnings: Error[] = [];
    const listener = (w: Error) => void warnings.push(w);
    process.on('warning', listener);
    try {
      expect(await collect(reader.scan())).toHaveLength(10);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', listener);
    }
    expect(warnings.some((w) => /chunks are missing/.test(w.message))).toBe(true);
  });

  it('get with onCorrupt: report returns undefined and reports it', async () => {
    const reported: CorruptArchiveItemError[] = [];
    expect(
      await reader.get('broken', { onCorrupt: 'report', onCorruptItem: (e) => void reported.push(e) }),
    ).toBeUndefined();
    expect(reported).toHaveLength(1);
  });
});
