import { aggregate, deaggregate } from '@kinesis-archive/agg';
import type { KinesisEventRecord } from '@kinesis-archive/core';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { ArchiveReader, ArchiveWriter } from '../src/index.js';
import event from './fixtures/lambda-event-aggregated.json' with { type: 'json' };
import { collect, freshTable, lambdaRecord, rec, seq, text } from './helpers.js';

const { clients } = localAws();
const dynamodb = clients.dynamodb;
afterAll(() => clients.destroy());

async function setup() {
  const tableName = await freshTable(dynamodb, 'ALL');
  return {
    writer: new ArchiveWriter({ dynamodb, tableName, mode: 'ALL' }),
    reader: new ArchiveReader({ dynamodb, tableName, mode: 'ALL', consistentRead: true }),
  };
}

describe('ALL writer', () => {
  it('keeps every record of a key, in position order, across sequence-number lengths', async () => {
    const { writer, reader } = await setup();
    const short = '9'.repeat(56);
    const long = `1${'0'.repeat(56)}`;
    const result = await writer.write([rec('k', long), rec('k', short), rec('k', '7'), rec('other', '8')]);
    expect(result).toEqual({
      written: 4,
      skippedStale: 0,
      tombstoned: 0,
      compacted: 0,
      quarantined: [],
      failed: [],
    });
    const history = await collect(reader.query({ partitionKey: 'k' }));
    expect(history.map((r) => r.sequenceNumber)).toEqual(['7', short, long]);
    const desc = await collect(reader.query({ partitionKey: 'k', order: 'desc' }));
    expect(desc.map((r) => r.sequenceNumber)).toEqual([long, short, '7']);
    expect((await reader.get('k'))?.sequenceNumber).toBe(long);
  });

  it('is idempotent under re-delivery (same batch and later batches)', async () => {
    const { writer, reader } = await setup();
    const batch = Array.from({ length: 60 }, (_, i) => rec(`key-${i % 4}`, seq(i)));
    const first = await writer.write([...batch, batch[0]!, batch[1]!]);
    expect(first.written).toBe(60);
    expect(first.skippedStale).toBe(2);
    const again = await writer.write(batch);
    expect(again.written).toBe(60);
    expect(again.failed).toEqual([]);
    const all = await collect(reader.scan());
    expect(all.length).toBe(60);
    expect(new Set(all.map((r) => `${r.partitionKey}/${r.sequenceNumber}`)).size).toBe(60);
  });

  it('archives KPL sub-records under their own keys with sub-sequence numbers', async () => {
    const { writer, reader } = await setup();
    const users = Array.from({ length: 30 }, (_, i) => ({
      partitionKey: `u-${i % 3}`,
      data: `payload-${i}`,
    }));
    const aggs = aggregate(users, { mixShards: true });
    expect(aggs.length).toBe(1);
    const result = await writer.write([lambdaRecord(aggs[0]!.partitionKey, seq(5), aggs[0]!.data)]);
    expect(result.written).toBe(30);
    const u1 = await collect(reader.query({ partitionKey: 'u-1' }));
    expect(u1.map((r) => text(r.data))).toEqual(
      users.filter((u) => u.partitionKey === 'u-1').map((u) => u.data),
    );
    expect(u1.map((r) => r.subSequenceNumber)).toEqual([1, 4, 7, 10, 13, 16, 19, 22, 25, 28]);
    expect(u1.every((r) => r.sequenceNumber === seq(5))).toBe(true);
    expect(await collect(reader.query({ partitionKey: aggs[0]!.partitionKey }))).toEqual([]);
  });

  it('archives the shared aggregated Lambda event fixture', async () => {
    const { writer, reader } = await setup();
    const records = event.Records as KinesisEventRecord[];
    const result = await writer.write(records);
    expect(result.failed).toEqual([]);
    expect(result.written).toBeGreaterThan(1);
    const all = await collect(reader.scan());
    expect(all.length).toBe(result.written);
    expect(all.every((r) => r.sequenceNumber === records[0]!.kinesis.sequenceNumber)).toBe(true);
    expect(all.every((r) => r.approximateArrivalTimestamp.getTime() === 1_428_537_600_000)).toBe(true);
  });

  it('stores binary payloads with every byte value byte-exact', async () => {
    const { writer, reader } = await setup();
    const every = Uint8Array.from({ length: 256 * 4 }, (_, i) => (i * 7) % 256);
    const invalidUtf8 = new Uint8Array([0xff, 0xfe, 0xc3, 0x28, 0x00, 0x80]);
    await writer.write([lambdaRecord('b', seq(1), every), rec('b', seq(2), invalidUtf8)]);
    const got = await collect(reader.query({ partitionKey: 'b' }));
    expect(Buffer.from(got[0]!.data).equals(Buffer.from(every))).toBe(true);
    expect(Buffer.from(got[1]!.data).equals(Buffer.from(invalidUtf8))).toBe(true);
  });

  it('keeps the explicit hash key of a sub-record', async () => {
    const { writer, reader } = await setup();
    const [agg] = aggregate(
      [
        { partitionKey: 'e', data: 'a', explicitHashKey: '12345' },
        { partitionKey: 'e', data: 'b' },
      ],
      { mixShards: true },
    );
    await writer.write([{ data: agg!.data, partitionKey: agg!.partitionKey, sequenceNumber: seq(1) }]);
    const got = await collect(reader.query({ partitionKey: 'e' }));
    expect(got.map((r) => r.explicitHashKey)).toEqual(['12345', undefined]);
  });

  it('takes records already deaggregated as they are (not deaggregated twice)', async () => {
    const { writer, reader } = await setup();
    const [inner] = aggregate(
      [
        { partitionKey: 'n1', data: 'x' },
        { partitionKey: 'n2', data: 'y' },
      ],
      { mixShards: true },
    );
    // A user record whose payload is itself a KPL aggregate: it must be stored as bytes.
    const [outer] = aggregate(
      [
        { partitionKey: 'wrapper', data: inner!.data },
        { partitionKey: 'plain', data: 'z' },
      ],
      { mixShards: true },
    );
    const users = deaggregate(lambdaRecord(outer!.partitionKey, seq(3), outer!.data));
    expect(users.map((u) => u.partitionKey)).toEqual(['wrapper', 'plain']);
    const result = await writer.write(users);
    expect(result.written).toBe(2);
    const [wrapper] = await collect(reader.query({ partitionKey: 'wrapper' }));
    expect(Buffer.from(wrapper!.data).equals(Buffer.from(inner!.data))).toBe(true);
    expect(await reader.get('n1')).toBeUndefined();
    expect((await reader.get('plain'))?.subSequenceNumber).toBe(1);
  });
});
