import { randomBytes } from 'node:crypto';
import { DeleteItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { createLocalClients } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ArchiveMode,
  ArchiveReader,
  ArchiveWriter,
  CHUNK_KEY_PREFIX,
  CorruptArchiveItemError,
} from '../src/index.js';
import { collect, freshTable, lambdaRecord, rec, seq } from './helpers.js';

const { clients, endpoints } = localAws();
const dynamodb = clients.dynamodb;
afterAll(() => clients.destroy());

async function setup(mode: ArchiveMode) {
  const tableName = await freshTable(dynamodb, mode);
  return {
    tableName,
    writer: new ArchiveWriter({ dynamodb, tableName, mode }),
    reader: new ArchiveReader({ dynamodb, tableName, mode, consistentRead: true }),
  };
}

async function itemCount(tableName: string): Promise<number> {
  const out = await dynamodb.send(
    new ScanCommand({ TableName: tableName, Select: 'COUNT', ConsistentRead: true }),
  );
  return out.Count ?? 0;
}

const MiB = 1_048_576;

describe.each(['ALL', 'LATEST'] as const)('chunked records (%s)', (mode) => {
  it('stores records up to 1 MiB (data + key) byte-exact and reads them back whole', async () => {
    const { writer, reader } = await setup(mode);
    const big = randomBytes(MiB - 3); // + 'big' = exactly 1 MiB
    const medium = randomBytes(400_000);
    const result = await writer.write([lambdaRecord('big', seq(1), big), rec('medium', seq(2), medium)]);
    expect(result.failed).toEqual([]);
    expect(result.written).toBe(2);
    const gotBig = await reader.get('big');
    expect(Buffer.from(gotBig!.data).equals(big)).toBe(true);
    expect(Buffer.from((await reader.get('medium'))!.data).equals(medium)).toBe(true);
    const scanned = await collect(reader.scan());
    expect(scanned.map((r) => r.partitionKey).sort()).toEqual(['big', 'medium']);
    expect(scanned.every((r) => r.data.byteLength > 350_000)).toBe(true);
  });

  it('quarantines a record over 1 MiB as RECORD_TOO_LARGE, and archives the rest', async () => {
    const { writer, reader } = await setup(mode);
    const result = await writer.write([rec('small', seq(1)), rec('huge', seq(2), randomBytes(MiB))]);
    expect(result.written).toBe(1);
    expect(result.failed).toEqual([]);
    expect(result.quarantined).toHaveLength(1);
    expect(result.quarantined[0]).toMatchObject({ sequenceNumber: seq(2), partitionKey: 'huge', index: 1 });
    expect(result.quarantined[0]!.error.code).toBe('RECORD_TOO_LARGE');
    expect(await reader.get('huge')).toBeUndefined();
  });

  it('keeps a chunked record whole when the same record is archived again (a Lambda retry)', async () => {
    const { tableName, writer, reader } = await setup(mode);
    const data = randomBytes(800_000);
    const batch = [lambdaRecord('big', seq(1), data)];
    expect((await writer.write(batch)).written).toBe(1);
    const again = await writer.write(batch);
    expect(again.failed).toEqual([]);
    expect(Buffer.from((await reader.get('big'))!.data).equals(data)).toBe(true);
    expect(await itemCount(tableName)).toBe(4); // head + 3 chunks, nothing deleted or duplicated
  });

  it('stores up to maxRecordBytes when a stream allows larger records', async () => {
    const { tableName, reader } = await setup(mode);
    const writer = new ArchiveWriter({ dynamodb, tableName, mode, maxRecordBytes: 3 * MiB });
    const data = randomBytes(2 * MiB + 17);
    expect((await writer.write([rec('x', seq(1), data)])).written).toBe(1);
    expect(Buffer.from((await reader.get('x'))!.data).equals(data)).toBe(true);
  });
});

describe('chunked records in LATEST', () => {
  it('deletes the chunks of a replaced record, and of a stale record that lost', async () => {
    const { tableName, writer, reader } = await setup('LATEST');
    await writer.write([rec('k', seq(5), randomBytes(800_000))]);
    expect(await itemCount(tableName)).toBe(4); // head + 3 chunks
    const stale = await writer.write([rec('k', seq(4), randomBytes(800_000))]);
    expect(stale.skippedStale).toBe(1);
    expect(await itemCount(tableName)).toBe(4);
    const newer = randomBytes(10);
    await writer.write([rec('k', seq(6), newer)]);
    expect(await itemCount(tableName)).toBe(1);
    expect(Buffer.from((await reader.get('k'))!.data).equals(newer)).toBe(true);
  });

  it('without the stored item in the condition failure, reads it back before deleting any chunk', async () => {
    const { tableName, reader } = await setup('LATEST');
    // A DynamoDB-compatible endpoint that ignores ReturnValuesOnConditionCheckFailure: the same DynamoDB Local,
    // with the stored item removed from every ConditionalCheckFailedException.
    const plain = createLocalClients(endpoints);
    let stripped = 0;
    plain.dynamodb.middlewareStack.add(
      (next) => async (args) => {
        try {
          return await next(args);
        } catch (error) {
          if ((error as { Item?: unknown }).Item !== undefined) {
            delete (error as { Item?: unknown }).Item;
            stripped++;
          }
          throw error;
        }
      },
      { step: 'initialize', name: 'dropConditionFailureItem' },
    );
    try {
      const writer = new ArchiveWriter({ dynamodb: plain.dynamodb, tableName, mode: 'LATEST' });
      const data = randomBytes(800_000);
      await writer.write([rec('k', seq(5), data)]);
      // the same record again: its chunks are the stored head's, so they stay
      expect((await writer.write([rec('k', seq(5), data)])).skippedStale).toBe(1);
      expect(Buffer.from((await reader.get('k'))!.data).equals(data)).toBe(true);
      expect(await itemCount(tableName)).toBe(4);
      // an older record: its chunks are nobody's, so they go
      expect((await writer.write([rec('k', seq(4), randomBytes(800_000))])).skippedStale).toBe(1);
      expect(await itemCount(tableName)).toBe(4);
      expect(Buffer.from((await reader.get('k'))!.data).equals(data)).toBe(true);
      expect(stripped).toBe(2);
    } finally {
      plain.destroy();
    }
  });

  it('keeps a stored chunked record readable when it is archived again with a shorter TTL (TTL tag changed, then a retry)', async () => {
    // TTL off on the table: the test deletes expired items itself, as DynamoDB's TTL eventually does.
    const tableName = await freshTable(dynamodb, 'LATEST', { ttl: false });
    const reader = new ArchiveReader({ dynamodb, tableName, mode: 'LATEST', consistentRead: true });
    const data = randomBytes(800_000);
    await new ArchiveWriter({ dynamodb, tableName, mode: 'LATEST' }).write([rec('k', seq(5), data)]);
    // ArchiveTTL=expireSeconds=1 is added to the stream, then Lambda retries a batch holding the same record.
    const ttlWriter = new ArchiveWriter({ dynamodb, tableName, mode: 'LATEST', ttlSeconds: 1 });
    const again = await ttlWriter.write([rec('k', seq(5), data)]);
    expect(again.skippedStale).toBe(1);
    expect(again.failed).toEqual([]);
    // Once past that TTL, DynamoDB deletes every item whose expireAfter has passed.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const now = Math.floor(Date.now() / 1000);
    const items = (await dynamodb.send(new ScanCommand({ TableName: tableName, ConsistentRead: true })))
      .Items!;
    for (const item of items) {
      if (item.expireAfter?.N !== undefined && Number(item.expireAfter.N) <= now) {
        await dynamodb.send(
          new DeleteItemCommand({ TableName: tableName, Key: { partitionKey: item.partitionKey! } }),
        );
      }
    }
    // The stored head has no TTL: its record is still there, whole.
    expect(Buffer.from((await reader.get('k'))!.data).equals(data)).toBe(true);
    expect(await itemCount(tableName)).toBe(4);
  });

  it('reads chunks whose BatchGetItem answer names the table by another name (its ARN)', async () => {
    const { tableName, writer } = await setup('LATEST');
    const data = randomBytes(800_000);
    await writer.write([rec('k', seq(1), data)]);
    const other = createLocalClients(endpoints);
    let rekeyed = 0;
    other.dynamodb.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        const output = out.output as { Responses?: Record<string, unknown[]> };
        const items = output.Responses?.[tableName];
        if (items) {
          output.Responses = { [`arn:aws:dynamodb:us-east-1:123456789012:table/${tableName}`]: items };
          rekeyed++;
        }
        return out;
      },
      { step: 'initialize', name: 'responsesUnderArn' },
    );
    try {
      const reader = new ArchiveReader({
        dynamodb: other.dynamodb,
        tableName,
        mode: 'LATEST',
        consistentRead: true,
      });
      expect(Buffer.from((await reader.get('k'))!.data).equals(data)).toBe(true);
      expect(rekeyed).toBeGreaterThan(0);
    } finally {
      other.destroy();
    }
  });

  it('rejects partition keys that could collide with chunk items', async () => {
    const { writer } = await setup('LATEST');
    const result = await writer.write([rec(`${CHUNK_KEY_PREFIX}x`, seq(1))]);
    expect(result.quarantined[0]!.error.code).toBe('INVALID_RECORD');
  });

  it('reports a head whose chunks do not match as CORRUPT_ITEM', async () => {
    const { tableName, writer, reader } = await setup('ALL');
    await writer.write([rec('c', seq(1), randomBytes(500_000))]);
    const [chunk] = (
      await dynamodb.send(
        new ScanCommand({ TableName: tableName, FilterExpression: 'attribute_exists(chunkIndex)' }),
      )
    ).Items!;
    await dynamodb.send(
      new PutItemCommand({ TableName: tableName, Item: { ...chunk!, recordData: { B: new Uint8Array(3) } } }),
    );
    await expect(reader.get('c')).rejects.toBeInstanceOf(CorruptArchiveItemError);
  });
});
