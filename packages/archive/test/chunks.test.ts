import { randomBytes } from 'node:crypto';
import { PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
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

const { clients } = localAws();
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

  it('reports a record over 1 MiB as RECORD_TOO_LARGE, and archives the rest', async () => {
    const { writer, reader } = await setup(mode);
    const result = await writer.write([rec('small', seq(1)), rec('huge', seq(2), randomBytes(MiB))]);
    expect(result.written).toBe(1);
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]).toMatchObject({ sequenceNumber: seq(2), partitionKey: 'huge', index: 1 });
    expect(result.failed[0]!.error.code).toBe('RECORD_TOO_LARGE');
    expect(await reader.get('huge')).toBeUndefined();
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

  it('rejects partition keys that could collide with chunk items', async () => {
    const { writer } = await setup('LATEST');
    const result = await writer.write([rec(`${CHUNK_KEY_PREFIX}x`, seq(1))]);
    expect(result.failed[0]!.error.code).toBe('INVALID_RECORD');
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
