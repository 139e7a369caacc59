import type { KinesisStreamEvent } from '@kinesis-archive/core';
import { describe, expect, it } from 'vitest';
import { aggregate, deaggregate, hashKeyOf, MAX_HASH_KEY, ShardMap } from '../src/index.js';
import { fixture, protobufDecode } from './helpers.js';

interface Vector {
  aggregated_base64: string;
  sequenceNumber?: string;
  user_records: { partitionKey: string; explicitHashKey?: string; data: string }[];
}
const AGGREGATES = ['kpl_with_ehks', 'kpl_no_ehks', 'kinesis_analytics_agg'] as const;
const vectors = fixture<
  Record<(typeof AGGREGATES)[number], Vector> & { kinesis_analytics_non_agg: { data_base64: string } }
>('kpl-vectors.json');

/** A one-shard stream: the safe path aggregates every key together, as the KPL did for these vectors. */
const oneShardStream = new ShardMap([
  {
    ShardId: 'shardId-000000000000',
    HashKeyRange: { StartingHashKey: '0', EndingHashKey: MAX_HASH_KEY.toString() },
  },
]);
const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

describe('KPL vectors', () => {
  for (const name of AGGREGATES) {
    it(`${name}: decodes to exactly the expected user records`, () => {
      const v = vectors[name];
      const bytes = Buffer.from(v.aggregated_base64, 'base64');
      const out = deaggregate(
        { data: bytes, partitionKey: 'a', sequenceNumber: v.sequenceNumber ?? '1' },
        { onInvalid: 'throw' },
      );
      expect(
        out.map((r) => ({
          partitionKey: r.partitionKey,
          explicitHashKey: r.explicitHashKey,
          data: text(r.data),
        })),
      ).toEqual(
        v.user_records.map((u) => ({
          partitionKey: u.partitionKey,
          explicitHashKey: u.explicitHashKey,
          data: u.data,
        })),
      );
      out.forEach((r, i) => {
        expect(r.aggregated).toBe(true);
        expect(r.subSequenceNumber).toBe(i);
        expect(r.sequenceNumber).toBe(v.sequenceNumber ?? '1');
        // zero copy: a view into the input bytes
        expect(r.data.buffer).toBe(bytes.buffer);
      });
    });

    it(`${name}: our aggregate of its user records decodes back to them`, () => {
      const users = vectors[name].user_records;
      const out = aggregate(users, { shardMap: oneShardStream });
      expect(out).toHaveLength(1);
      const agg = out[0]!;
      expect(agg.partitionKey).toBe('a');
      expect(agg.recordCount).toBe(users.length);
      expect(agg.explicitHashKey).toBe(
        hashKeyOf(users[0]!.partitionKey, users[0]!.explicitHashKey).toString(),
      );
      const back = deaggregate({ data: agg.data, partitionKey: agg.partitionKey }, { onInvalid: 'throw' });
      expect(
        back.map((r) => ({
          partitionKey: r.partitionKey,
          explicitHashKey: r.explicitHashKey,
          data: text(r.data),
        })),
      ).toEqual(
        users.map((u) => ({
          partitionKey: u.partitionKey,
          explicitHashKey: u.explicitHashKey,
          data: u.data,
        })),
      );
      // protobufjs's own decoder agrees, and tables are de-duplicated
      const decoded = protobufDecode(agg.data);
      expect(decoded.partitionKeyTable).toEqual([...new Set(users.map((u) => u.partitionKey))]);
      expect(decoded.explicitHashKeyTable).toEqual([
        ...new Set(users.flatMap((u) => (u.explicitHashKey ? [u.explicitHashKey] : []))),
      ]);
    });
  }

  it('our encoding of the KPL vectors is as small as the KPL one', () => {
    for (const name of AGGREGATES) {
      const kpl = Buffer.from(vectors[name].aggregated_base64, 'base64');
      const ours = aggregate(vectors[name].user_records, { shardMap: oneShardStream })[0]!.data;
      expect(ours.length).toBeLessThanOrEqual(kpl.length);
    }
  });

  it('a non-aggregated record passes through', () => {
    const data = Buffer.from(vectors.kinesis_analytics_non_agg.data_base64, 'base64');
    const out = deaggregate({ data, partitionKey: 'pk', sequenceNumber: '7' });
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      partitionKey: 'pk',
      sequenceNumber: '7',
      subSequenceNumber: 0,
      aggregated: false,
    });
    expect(text(out[0]!.data)).toBe('RECORD 749 pjqrcfbxafzdndzmbgane');
  });

  it('Lambda event record: shard id, sequence number, arrival time', () => {
    const event = fixture<KinesisStreamEvent>('lambda-event-aggregated.json');
    const rec = event.Records[0]!;
    const out = deaggregate(rec);
    expect(out.length).toBeGreaterThan(1);
    out.forEach((r, i) => {
      expect(r).toMatchObject({
        shardId: 'shardId-000000000000',
        sequenceNumber: rec.kinesis.sequenceNumber,
        subSequenceNumber: i,
        aggregated: true,
      });
      expect(r.approximateArrivalTimestamp?.getTime()).toBe(rec.kinesis.approximateArrivalTimestamp * 1000);
    });
    // the .kinesis payload alone gives the same records, without the shard id
    const fromPayload = deaggregate(rec.kinesis);
    expect(fromPayload.map((r) => text(r.data))).toEqual(out.map((r) => text(r.data)));
    expect(fromPayload[0]!.shardId).toBeUndefined();
  });

  it('hashKeyOf matches the documented MD5 value', () => {
    expect(hashKeyOf('abc')).toBe(191415658344158766168031473277922803570n);
    expect(hashKeyOf('abc', '42')).toBe(42n);
  });
});
