import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { aggregate } from '@kinesis-archive/agg';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { ArchiveReader, ArchiveWriter } from '../src/index.js';
import { collect, freshTable, lambdaRecord, rec, seq, text } from './helpers.js';

const { clients } = localAws();
const dynamodb = clients.dynamodb;
afterAll(() => clients.destroy());

async function setup(options: { tombstones?: boolean } = {}) {
  const tableName = await freshTable(dynamodb, 'LATEST');
  return {
    writer: new ArchiveWriter({ dynamodb, tableName, mode: 'LATEST', ...options }),
    reader: new ArchiveReader({ dynamodb, tableName, mode: 'LATEST', consistentRead: true }),
  };
}

describe('LATEST writer', () => {
  it('keeps the newest record per key within a batch and counts the others as compacted', async () => {
    const { writer, reader } = await setup();
    const result = await writer.write([
      rec('a', seq(3)),
      rec('a', seq(1)),
      rec('b', seq(2)),
      rec('a', seq(5)),
      rec('a', seq(4)),
    ]);
    expect(result).toEqual({
      written: 2,
      skippedStale: 0,
      tombstoned: 0,
      compacted: 3,
      quarantined: [],
      failed: [],
    });
    expect((await reader.get('a'))?.sequenceNumber).toBe(seq(5));
    expect(text((await reader.get('a'))!.data)).toBe(`v-${seq(5)}`);
    expect((await reader.get('b'))?.sequenceNumber).toBe(seq(2));
  });

  it('replaces an item written by the archiver it replaces (same table layout, no sequenceKey)', async () => {
    const tableName = await freshTable(dynamodb, 'LATEST');
    // the old archiver's LATEST item: partitionKey, sequenceNumber, recordData, ... and no sequenceKey
    await dynamodb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          partitionKey: { S: 'k' },
          sequenceNumber: { S: seq(7) },
          recordData: { B: Buffer.from('legacy') },
          lastUpdate: { N: '1700000000000' },
        },
      }),
    );
    const writer = new ArchiveWriter({ dynamodb, tableName, mode: 'LATEST' });
    const reader = new ArchiveReader({ dynamodb, tableName, mode: 'LATEST', consistentRead: true });
    const result = await writer.write([rec('k', seq(8))]);
    expect(result).toMatchObject({ written: 1, skippedStale: 0, failed: [] });
    expect(text((await reader.get('k'))!.data)).toBe(`v-${seq(8)}`);
    // and from then on the usual order applies
    expect((await writer.write([rec('k', seq(6))])).skippedStale).toBe(1);
    expect((await reader.get('k'))?.sequenceNumber).toBe(seq(8));
  });

  it('skips late and duplicate records delivered in later batches', async () => {
    const { writer, reader } = await setup();
    await writer.write([rec('k', seq(10))]);
    const late = await writer.write([rec('k', seq(9))]);
    expect(late.skippedStale).toBe(1);
    expect(late.written).toBe(0);
    const duplicate = await writer.write([rec('k', seq(10), 'other bytes')]);
    expect(duplicate.skippedStale).toBe(1);
    expect(text((await reader.get('k'))!.data)).toBe(`v-${seq(10)}`);
    const newer = await writer.write([rec('k', seq(11))]);
    expect(newer.written).toBe(1);
    expect((await reader.get('k'))?.sequenceNumber).toBe(seq(11));
  });

  it('orders sequence numbers of different lengths as numbers (56 nines, then 10^56)', async () => {
    const { writer, reader } = await setup();
    const older = '9'.repeat(56);
    const newer = `1${'0'.repeat(56)}`;
    expect(older > newer).toBe(true); // the string order a naive archiver would use is wrong
    expect((await writer.write([rec('k', older)])).written).toBe(1);
    expect((await writer.write([rec('k', newer)])).written).toBe(1);
    expect((await reader.get('k'))?.sequenceNumber).toBe(newer);
    expect((await writer.write([rec('k', older)])).skippedStale).toBe(1);
    expect((await reader.get('k'))?.sequenceNumber).toBe(newer);
    // Within one batch too.
    const { writer: w2, reader: r2 } = await setup();
    await w2.write([rec('k', newer), rec('k', older)]);
    expect((await r2.get('k'))?.sequenceNumber).toBe(newer);
  });

  it('compares zero-padded sequence numbers by value', async () => {
    const { writer, reader } = await setup();
    await writer.write([rec('z', `000${seq(8)}`)]);
    expect((await writer.write([rec('z', seq(8))])).skippedStale).toBe(1); // same position
    expect((await writer.write([rec('z', seq(9))])).written).toBe(1);
    expect((await reader.get('z'))?.sequenceNumber).toBe(seq(9));
  });

  it('orders sub-records of one aggregate by subSequenceNumber', async () => {
    const { writer, reader } = await setup();
    const [agg] = aggregate(
      [
        { partitionKey: 'x', data: 'first' },
        { partitionKey: 'y', data: 'only-y' },
        { partitionKey: 'x', data: 'last' },
      ],
      { mixShards: true },
    );
    const result = await writer.write([{ ...agg!, sequenceNumber: seq(1) }]);
    expect(result).toMatchObject({ written: 2, compacted: 1, failed: [] });
    const x = await reader.get('x');
    expect(text(x!.data)).toBe('last');
    expect(x!.subSequenceNumber).toBe(2);
    expect(text((await reader.get('y'))!.data)).toBe('only-y');
    expect(await reader.get('a')).toBeUndefined(); // not archived under the aggregate's outer key
  });

  it('archives Lambda event records (base64) byte-exact', async () => {
    const { writer, reader } = await setup();
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const result = await writer.write([lambdaRecord('bin', seq(1), bytes)]);
    expect(result.written).toBe(1);
    const got = await reader.get('bin');
    expect(Buffer.from(got!.data).equals(Buffer.from(bytes))).toBe(true);
    expect(got!.shardId).toBe('shardId-000000000000');
    expect(got!.approximateArrivalTimestamp.getTime()).toBe(1_700_000_000_500);
  });

  it('accepts SDK GetRecords records with a shard id from the call', async () => {
    const { writer, reader } = await setup();
    const arrival = new Date('2026-01-02T03:04:05.678Z');
    const result = await writer.write(
      [
        {
          PartitionKey: 'g',
          SequenceNumber: seq(7),
          Data: new Uint8Array([1, 2, 3]),
          ApproximateArrivalTimestamp: arrival,
        },
      ],
      { shardId: 'shardId-000000000003' },
    );
    expect(result.written).toBe(1);
    const got = await reader.get('g');
    expect(got).toMatchObject({
      sequenceNumber: seq(7),
      subSequenceNumber: 0,
      shardId: 'shardId-000000000003',
    });
    expect(got!.approximateArrivalTimestamp.toISOString()).toBe(arrival.toISOString());
  });

  it('converges to the newest record whatever the delivery order and batching', async () => {
    const { writer, reader } = await setup();
    const records = Array.from({ length: 120 }, (_, i) => rec(`key-${i % 7}`, seq(1000 + i)));
    const shuffled = [...records].sort(() => Math.random() - 0.5);
    let counted = 0;
    for (let i = 0; i < shuffled.length; i += 17) {
      const r = await writer.write(shuffled.slice(i, i + 17));
      counted += r.written + r.skippedStale + r.compacted + r.failed.length + r.tombstoned;
      expect(r.failed).toEqual([]);
    }
    expect(counted).toBe(records.length);
    for (let k = 0; k < 7; k++) {
      const newest = records.filter((r) => r.partitionKey === `key-${k}`).at(-1)!;
      expect((await reader.get(`key-${k}`))?.sequenceNumber).toBe(newest.sequenceNumber);
    }
    expect((await collect(reader.scan())).length).toBe(7);
  });
});

describe('LATEST tombstones', () => {
  it('an empty record deletes the key and an older late record cannot bring it back', async () => {
    const { writer, reader } = await setup({ tombstones: true });
    await writer.write([rec('t', seq(1), 'alive')]);
    const del = await writer.write([rec('t', seq(2), new Uint8Array(0))]);
    expect(del).toMatchObject({ tombstoned: 1, written: 0 });
    expect(await reader.get('t')).toBeUndefined();
    const late = await writer.write([rec('t', seq(1), 'alive'), rec('t', seq(0), 'older')]);
    expect(late.skippedStale).toBe(1);
    expect(late.compacted).toBe(1);
    expect(await reader.get('t')).toBeUndefined();
    const marker = await reader.get('t', { includeTombstones: true });
    expect(marker).toMatchObject({ tombstone: true, sequenceNumber: seq(2) });
    expect(marker!.expireAfter!.getTime()).toBeGreaterThan(Date.now() + 86_000_000);
    expect(await collect(reader.scan())).toEqual([]);
    expect((await collect(reader.scan({ includeTombstones: true }))).length).toBe(1);
    // A newer record brings the key back.
    expect((await writer.write([rec('t', seq(3), 'reborn')])).written).toBe(1);
    expect(text((await reader.get('t'))!.data)).toBe('reborn');
  });

  it('without tombstones, an empty record is an ordinary (empty) record', async () => {
    const { writer, reader } = await setup();
    await writer.write([rec('e', seq(1), 'x'), rec('e', seq(2), new Uint8Array(0))]);
    const got = await reader.get('e');
    expect(got?.sequenceNumber).toBe(seq(2));
    expect(got?.data.byteLength).toBe(0);
    expect(got?.tombstone).toBeUndefined();
  });

  it('uses the configured tombstone retention', async () => {
    const { writer, reader } = await setup();
    const w = new ArchiveWriter({
      dynamodb,
      tableName: writer.tableName,
      mode: 'LATEST',
      tombstones: { retentionSeconds: 600 },
    });
    await w.write([rec('r', seq(1), new Uint8Array(0))]);
    const marker = await reader.get('r', { includeTombstones: true });
    const left = marker!.expireAfter!.getTime() - Date.now();
    expect(left).toBeGreaterThan(590_000);
    expect(left).toBeLessThanOrEqual(601_000);
  });
});
