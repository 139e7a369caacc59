import { randomBytes } from 'node:crypto';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { ORPHAN_CHUNK_TTL_SECONDS } from '../src/chunk-store.js';
import { type ArchiveMode, ArchiveReader, ArchiveWriter } from '../src/index.js';
import { freshTable, rec, seq, throughProxy } from './helpers.js';

const { clients, endpoints } = localAws();
const dynamodb = clients.dynamodb;
afterAll(() => clients.destroy());

/** Every chunk item of the table (read directly, all pages). */
async function chunkItems(tableName: string): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let key: Record<string, AttributeValue> | undefined;
  do {
    const out = await dynamodb.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'attribute_exists(chunkIndex)',
        ProjectionExpression: 'partitionKey, chunkIndex, expireAfter',
        ConsistentRead: true,
        ExclusiveStartKey: key,
      }),
    );
    items.push(...(out.Items ?? []));
    key = out.LastEvaluatedKey;
  } while (key);
  return items;
}

const once = { maxAttempts: 1 };

describe.each([
  ['ALL', 'BatchWriteItem'],
  ['LATEST', 'UpdateItem'],
] as const)('chunks of a head that could not be written (%s)', (mode: ArchiveMode, headOperation) => {
  it('are deleted: nothing refers to them', async () => {
    const tableName = await freshTable(dynamodb, mode);
    // ALL: the 1st BatchWriteItem writes the chunks, the 2nd the head. LATEST: chunks by BatchWriteItem, head by UpdateItem.
    const p = await throughProxy(endpoints, [
      { operation: headOperation, fault: 'internal', at: headOperation === 'UpdateItem' ? [1] : [2] },
    ]);
    try {
      const writer = new ArchiveWriter({ dynamodb: p.dynamodb, tableName, mode, retry: once });
      const result = await writer.write([rec('big', seq(1), randomBytes(800_000))]);
      expect(result.failed.map((f) => f.error.code)).toEqual(['WRITE_FAILED']);
      expect(await chunkItems(tableName)).toEqual([]);
    } finally {
      await p.close();
    }
  });

  it('are kept when the same record was archived before (a retry), so it stays readable', async () => {
    const tableName = await freshTable(dynamodb, mode);
    const data = randomBytes(800_000);
    await new ArchiveWriter({ dynamodb, tableName, mode }).write([rec('big', seq(1), data)]);
    const p = await throughProxy(endpoints, [
      { operation: headOperation, fault: 'internal', at: headOperation === 'UpdateItem' ? [1] : [2] },
    ]);
    try {
      const writer = new ArchiveWriter({ dynamodb: p.dynamodb, tableName, mode, retry: once });
      expect((await writer.write([rec('big', seq(1), data)])).failed).toHaveLength(1);
    } finally {
      await p.close();
    }
    const back = await new ArchiveReader({ dynamodb, tableName, mode, consistentRead: true }).get('big');
    expect(Buffer.compare(Buffer.from(back!.data), data)).toBe(0);
  });
});

describe('a LATEST replace whose answer is lost', () => {
  it("still deletes the replaced record's chunks: the head names them", async () => {
    const tableName = await freshTable(dynamodb, 'LATEST');
    await new ArchiveWriter({ dynamodb, tableName, mode: 'LATEST' }).write([
      rec('k', seq(1), randomBytes(800_000)),
    ]);
    expect(await chunkItems(tableName)).toHaveLength(3);
    // the replace is carried out and its answer (with ALL_OLD, the replaced record's chunks) never arrives; the
    // retry then fails the condition, since the stored head is already this record
    const p = await throughProxy(endpoints, [{ operation: 'UpdateItem', fault: 'lost', at: [1] }]);
    try {
      const writer = new ArchiveWriter({
        dynamodb: p.dynamodb,
        tableName,
        mode: 'LATEST',
        retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
      });
      const result = await writer.write([rec('k', seq(2), 'small now')]);
      expect(result.failed).toEqual([]);
      expect(result.skippedStale).toBe(1);
    } finally {
      await p.close();
    }
    const back = await new ArchiveReader({ dynamodb, tableName, mode: 'LATEST', consistentRead: true }).get(
      'k',
    );
    expect(back?.sequenceNumber).toBe(seq(2));
    expect(await chunkItems(tableName)).toEqual([]);
  });
});

describe('orphaned chunks that cannot be deleted', () => {
  it('get a TTL of their own (the head had none), so they do not stay for ever', async () => {
    const tableName = await freshTable(dynamodb, 'ALL');
    const p = await throughProxy(endpoints, [
      // the 1st BatchWriteItem writes the chunks; the head's 3 attempts fail
      { operation: 'BatchWriteItem', fault: 'internal', at: [2, 3, 4] },
      // then every delete attempt leaves every item unprocessed
      { operation: 'BatchWriteItem', fault: 'partial', at: [5, 6, 7, 8, 9, 10], entryFailureRate: 1 },
    ]);
    try {
      const writer = new ArchiveWriter({
        dynamodb: p.dynamodb,
        tableName,
        mode: 'ALL',
        retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
      });
      expect((await writer.write([rec('big', seq(1), randomBytes(800_000))])).failed).toHaveLength(1);
    } finally {
      await p.close();
    }
    const left = await chunkItems(tableName);
    expect(left).toHaveLength(3);
    const now = Date.now() / 1000;
    for (const item of left) {
      const ttl = Number(item.expireAfter?.N);
      expect(ttl).toBeGreaterThan(now + ORPHAN_CHUNK_TTL_SECONDS - 600);
      expect(ttl).toBeLessThanOrEqual(now + ORPHAN_CHUNK_TTL_SECONDS + 5);
    }
  });
});
