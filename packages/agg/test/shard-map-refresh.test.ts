import { describe, expect, it } from 'vitest';
import {
  type AggregatedRecord,
  Aggregator,
  deaggregate,
  hashKeyOf,
  MAX_HASH_KEY,
  RecordTooLargeError,
  type ShardDescription,
  ShardMap,
} from '../src/index.js';

const HALF = (MAX_HASH_KEY + 1n) / 2n;
const parent: ShardDescription[] = [
  { ShardId: 'p', HashKeyRange: { StartingHashKey: '0', EndingHashKey: MAX_HASH_KEY.toString() } },
];
const split: ShardDescription[] = [
  {
    ShardId: 'p',
    HashKeyRange: { StartingHashKey: '0', EndingHashKey: MAX_HASH_KEY.toString() },
    SequenceNumberRange: { StartingSequenceNumber: '1', EndingSequenceNumber: '9' },
  },
  { ShardId: 'c1', HashKeyRange: { StartingHashKey: '0', EndingHashKey: (HALF - 1n).toString() } },
  {
    ShardId: 'c2',
    HashKeyRange: { StartingHashKey: HALF.toString(), EndingHashKey: MAX_HASH_KEY.toString() },
  },
];

/** A client whose ListShards answers with `shards.current`. */
function fakeClient(shards: { current: ShardDescription[] }) {
  return { send: async () => ({ Shards: shards.current }) };
}

const userData = (out: AggregatedRecord[]) =>
  out.flatMap((r) =>
    r.recordCount === 1
      ? [Buffer.from(r.data).toString()]
      : deaggregate({ data: r.data, partitionKey: r.partitionKey }).map((u) =>
          Buffer.from(u.data).toString(),
        ),
  );

describe('ShardMap refreshed while the aggregator holds records', () => {
  it('the records of one key come out in order across a reshard', async () => {
    const shards = { current: parent };
    const shardMap = await ShardMap.load(fakeClient(shards), { streamName: 's' });
    const agg = new Aggregator({ shardMap, maxRecords: 3 });
    const emitted: AggregatedRecord[] = [];
    emitted.push(...agg.add({ partitionKey: 'k', data: '1' }));
    emitted.push(...agg.add({ partitionKey: 'k', data: '2' }));
    shards.current = split;
    await shardMap.refresh();
    for (let i = 3; i <= 7; i++) emitted.push(...agg.add({ partitionKey: 'k', data: String(i) }));
    emitted.push(...agg.flush());
    expect(userData(emitted)).toEqual(['1', '2', '3', '4', '5', '6', '7']);
    // and every aggregate is routed inside the shard it names
    const child = hashKeyOf('k') < HALF ? 'c1' : 'c2';
    expect(emitted.map((r) => r.shardId)).toEqual([child, child, child]);
    expect(agg.pendingRecords).toBe(0);
  });

  it('the held records are re-packed by the new shards: no aggregate mixes two of them', async () => {
    const shards = { current: parent };
    const shardMap = await ShardMap.load(fakeClient(shards), { streamName: 's' });
    const agg = new Aggregator({ shardMap });
    const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
    expect(new Set(keys.map((k) => hashKeyOf(k) < HALF)).size).toBe(2);
    const emitted: AggregatedRecord[] = [];
    for (const k of keys) emitted.push(...agg.add({ partitionKey: k, data: k }));
    shards.current = split;
    await shardMap.refresh();
    emitted.push(...agg.add({ partitionKey: 'key-0', data: 'last' }));
    emitted.push(...agg.flush());
    const owner = (hashKey: bigint) => (hashKey < HALF ? 'c1' : 'c2');
    for (const r of emitted) {
      const users =
        r.recordCount === 1
          ? [{ partitionKey: r.partitionKey, explicitHashKey: r.explicitHashKey }]
          : deaggregate({ data: r.data, partitionKey: r.partitionKey });
      expect(owner(hashKeyOf(r.partitionKey, r.explicitHashKey))).toBe(r.shardId);
      for (const u of users) expect(owner(hashKeyOf(u.partitionKey, u.explicitHashKey))).toBe(r.shardId);
    }
    const data = userData(emitted);
    expect([...data].sort()).toEqual([...keys, 'last'].sort());
    expect(data.indexOf('key-0')).toBeLessThan(data.indexOf('last'));
  });

  it('a flush right after the refresh re-packs the held records by the new shards too', async () => {
    const shards = { current: parent };
    const shardMap = await ShardMap.load(fakeClient(shards), { streamName: 's' });
    const agg = new Aggregator({ shardMap });
    const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
    for (const k of keys) expect(agg.add({ partitionKey: k, data: k })).toEqual([]);
    shards.current = split;
    await shardMap.refresh();
    const emitted = agg.flush();
    expect(emitted.map((r) => r.shardId).sort()).toEqual(['c1', 'c2']);
    for (const r of emitted) {
      for (const u of deaggregate({ data: r.data, partitionKey: r.partitionKey })) {
        expect(hashKeyOf(u.partitionKey) < HALF ? 'c1' : 'c2').toBe(r.shardId);
      }
    }
    expect(userData(emitted).sort()).toEqual([...keys].sort());
  });

  it('a record rejected right after the refresh loses none of the held records', async () => {
    const shards = { current: parent };
    const shardMap = await ShardMap.load(fakeClient(shards), { streamName: 's' });
    const agg = new Aggregator({ shardMap, maxBytes: 100 });
    const emitted: AggregatedRecord[] = [];
    emitted.push(...agg.add({ partitionKey: 'k', data: '1' }));
    emitted.push(...agg.add({ partitionKey: 'k', data: '2' }));
    shards.current = split;
    await shardMap.refresh();
    expect(() => agg.add({ partitionKey: 'k', data: 'x'.repeat(100) })).toThrow(RecordTooLargeError);
    expect(agg.pendingRecords).toBe(2);
    emitted.push(...agg.add({ partitionKey: 'k', data: '3' }));
    emitted.push(...agg.flush());
    expect(userData(emitted)).toEqual(['1', '2', '3']);
  });

  it('a refresh that changes nothing does not cut aggregates short', async () => {
    const shards = { current: parent };
    const shardMap = await ShardMap.load(fakeClient(shards), { streamName: 's' });
    const agg = new Aggregator({ shardMap });
    const emitted: AggregatedRecord[] = [];
    emitted.push(...agg.add({ partitionKey: 'k', data: '1' }));
    await shardMap.refresh();
    emitted.push(...agg.add({ partitionKey: 'k', data: '2' }));
    emitted.push(...agg.flush());
    expect(emitted.map((r) => r.recordCount)).toEqual([2]);
  });
});
