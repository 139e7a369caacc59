import { describe, expect, it } from 'vitest';
import {
  AGGREGATE_OVERHEAD,
  Aggregator,
  aggregate,
  aggregateStream,
  DEFAULT_MAX_BYTES,
  deaggregate,
  hashKeyOf,
  InvalidExplicitHashKeyError,
  InvalidOptionError,
  InvalidPartitionKeyError,
  InvalidRecordError,
  isPartitionKeyTooLong,
  MAX_HASH_KEY,
  RecordTooLargeError,
  ShardMap,
  toPutRecordsEntry,
  type UserRecord,
} from '../src/index.js';
import { protobufDecode } from './helpers.js';

const size = (r: { partitionKey: string; data: Uint8Array }) =>
  r.data.length + Buffer.byteLength(r.partitionKey);

function records(n: number, dataBytes: number, key = (i: number) => `key-${i}`): UserRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    partitionKey: key(i),
    data: Buffer.alloc(dataBytes, i & 0xff),
  }));
}

describe('aggregate', () => {
  it('a lone record is emitted as it is (no copy)', () => {
    const data = Buffer.from('hello');
    const out = aggregate([{ partitionKey: 'k', data, explicitHashKey: '12' }], { mixShards: true });
    expect(out).toEqual([{ partitionKey: 'k', explicitHashKey: '12', data, recordCount: 1 }]);
    expect(out[0]!.data).toBe(data);
    expect(toPutRecordsEntry(out[0]!)).toEqual({ PartitionKey: 'k', ExplicitHashKey: '12', Data: data });
  });

  it('KPL conventions: outer key "a", outer EHK = first record hash key, EHK table only user EHKs, dedup', () => {
    const out = aggregate(
      [
        { partitionKey: 'p1', data: 'x' },
        { partitionKey: 'p2', data: 'y', explicitHashKey: '5' },
        { partitionKey: 'p1', data: 'z', explicitHashKey: '5' },
      ],
      { mixShards: true },
    );
    expect(out).toHaveLength(1);
    expect(out[0]!.partitionKey).toBe('a');
    expect(out[0]!.explicitHashKey).toBe(hashKeyOf('p1').toString());
    expect(out[0]!.recordCount).toBe(3);
    const decoded = protobufDecode(out[0]!.data);
    expect(decoded.partitionKeyTable).toEqual(['p1', 'p2']);
    expect(decoded.explicitHashKeyTable).toEqual(['5']);
    expect(decoded.records[0]!.explicitHashKeyIndex).toBeUndefined();
    expect(toPutRecordsEntry(out[0]!)).toEqual({
      PartitionKey: 'a',
      ExplicitHashKey: hashKeyOf('p1').toString(),
      Data: out[0]!.data,
    });
    // the first record's EHK is kept as the outer EHK
    expect(
      aggregate(
        [
          { partitionKey: 'q', data: '', explicitHashKey: '9' },
          { partitionKey: 'r', data: '' },
        ],
        { mixShards: true },
      )[0],
    ).toMatchObject({ explicitHashKey: '9' });
  });

  it('strings are UTF-8; multi-byte keys are counted in bytes', () => {
    const out = aggregate(
      [
        { partitionKey: 'é🙂', data: 'ü' },
        { partitionKey: '日本', data: Buffer.from([1, 2]) },
      ],
      { mixShards: true },
    );
    const back = deaggregate({ data: out[0]!.data, partitionKey: 'a' });
    expect(back.map((r) => r.partitionKey)).toEqual(['é🙂', '日本']);
    expect(Buffer.from(back[0]!.data).toString()).toBe('ü');
  });

  it('never exceeds maxBytes and fills aggregates to within a few bytes', () => {
    for (const maxBytes of [200, 1000, 4096, DEFAULT_MAX_BYTES]) {
      const input = records(maxBytes >= 4096 ? 3000 : 300, 37, (i) => `k${i % 50}-ü`);
      const out = aggregate(input, { mixShards: true, maxBytes });
      expect(out.reduce((n, r) => n + r.recordCount, 0)).toBe(input.length);
      for (const r of out) expect(size(r)).toBeLessThanOrEqual(maxBytes);
      // every aggregate but the last is full: the next record (<= 37 + ~10 table/record bytes + keys) did not fit
      for (const r of out.slice(0, -1)) expect(size(r)).toBeGreaterThan(maxBytes - 70);
      const back = out.flatMap((r) => deaggregate({ data: r.data, partitionKey: r.partitionKey }));
      expect(back.map((r) => r.partitionKey)).toEqual(input.map((r) => r.partitionKey));
    }
  });

  it('exact at the limit: data + outer key == maxBytes is allowed', () => {
    const two = aggregate(
      [
        { partitionKey: 'a', data: Buffer.alloc(10) },
        { partitionKey: 'b', data: Buffer.alloc(10) },
      ],
      { mixShards: true },
    );
    expect(two).toHaveLength(1);
    const exact = two[0]!.data.length + 1;
    expect(
      aggregate(
        [
          { partitionKey: 'a', data: Buffer.alloc(10) },
          { partitionKey: 'b', data: Buffer.alloc(10) },
        ],
        { mixShards: true, maxBytes: exact },
      ).map((r) => r.recordCount),
    ).toEqual([2]);
    const split = aggregate(
      [
        { partitionKey: 'a', data: Buffer.alloc(10) },
        { partitionKey: 'b', data: Buffer.alloc(10) },
      ],
      { mixShards: true, maxBytes: exact - 1 },
    );
    expect(split.map((r) => r.recordCount)).toEqual([1, 1]);
  });

  it('a record that fits only un-aggregated is emitted alone; lone size counts data + key', () => {
    const out = aggregate(
      [
        { partitionKey: 'k1', data: Buffer.alloc(98) },
        { partitionKey: 'k2', data: Buffer.alloc(1) },
      ],
      { mixShards: true, maxBytes: 100 },
    );
    expect(out.map((r) => [r.partitionKey, r.recordCount])).toEqual([
      ['k1', 1],
      ['k2', 1],
    ]);
    expect(() =>
      aggregate([{ partitionKey: 'k1', data: Buffer.alloc(99) }], { mixShards: true, maxBytes: 100 }),
    ).toThrow(RecordTooLargeError);
  });

  it('typed errors name the record; the aggregator is unchanged after a rejection', () => {
    const agg = new Aggregator({ mixShards: true, maxBytes: 100 });
    agg.add({ partitionKey: 'ok', data: 'x' });
    const err = (() => {
      try {
        agg.add({ partitionKey: 'big', data: Buffer.alloc(200) });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(RecordTooLargeError);
    expect(err).toMatchObject({
      code: 'RECORD_TOO_LARGE',
      index: 1,
      partitionKey: 'big',
      size: 203,
      maxBytes: 100,
    });
    expect(() => agg.add({ partitionKey: '', data: 'x' })).toThrow(InvalidPartitionKeyError);
    expect(() => agg.add({ partitionKey: 'x'.repeat(257), data: 'x' })).toThrow(InvalidPartitionKeyError);
    // 256 characters that are 512 UTF-16 units are fine
    expect(
      aggregate([{ partitionKey: '🙂'.repeat(256), data: 'x' }], { mixShards: true })[0]!.partitionKey,
    ).toHaveLength(512);
    expect(() => aggregate([{ partitionKey: '🙂'.repeat(257), data: 'x' }], { mixShards: true })).toThrow(
      InvalidPartitionKeyError,
    );
    expect(() => agg.add({ partitionKey: 'k', data: 'x', explicitHashKey: '01' })).toThrow(
      InvalidExplicitHashKeyError,
    );
    expect(() =>
      agg.add({ partitionKey: 'k', data: 'x', explicitHashKey: (MAX_HASH_KEY + 1n).toString() }),
    ).toThrow(InvalidExplicitHashKeyError);
    expect(() => agg.add({ partitionKey: 'k', data: 'x', explicitHashKey: '-1' })).toThrow(/record #6/);
    expect(() => agg.add({ partitionKey: 'k', data: 5 as unknown as string })).toThrow(InvalidRecordError);
    agg.add({ partitionKey: 'k', data: 'x', explicitHashKey: MAX_HASH_KEY.toString() });
    expect(agg.pendingRecords).toBe(2);
    const out = agg.flush();
    expect(out.reduce((n, r) => n + r.recordCount, 0)).toBe(2);
    expect(agg.pendingRecords).toBe(0);
    expect(agg.flush()).toEqual([]);
  });

  it('validates options', () => {
    expect(() => new Aggregator({ mixShards: true, maxBytes: 0 })).toThrow(InvalidOptionError);
    expect(() => new Aggregator({ mixShards: true, maxBytes: 10 * 1048576 + 1 })).toThrow(InvalidOptionError);
    expect(new Aggregator({ mixShards: true, maxBytes: 10 * 1048576 }).maxBytes).toBe(10 * 1048576);
  });

  it('maxRecords caps the records per aggregate', () => {
    const out = aggregate(records(10, 1), { mixShards: true, maxRecords: 4 });
    expect(out.map((r) => r.recordCount)).toEqual([4, 4, 2]);
  });

  it('add returns completed aggregates; flush the rest; aggregateStream yields the same', async () => {
    const input = records(100, 50);
    const agg = new Aggregator({ mixShards: true, maxBytes: 1000 });
    const incremental = [...input.flatMap((r) => agg.add(r)), ...agg.flush()];
    expect(incremental).toEqual(aggregate(input, { mixShards: true, maxBytes: 1000 }));
    async function* source() {
      yield* input;
    }
    const streamed = [];
    for await (const r of aggregateStream(source(), { mixShards: true, maxBytes: 1000 })) streamed.push(r);
    expect(streamed).toEqual(incremental);
    expect(incremental.length).toBeGreaterThan(5);
  });

  it('with a shard map, an aggregate never mixes shards and is routed inside its shard', () => {
    const half = 1n << 127n;
    const shardMap = new ShardMap([
      { ShardId: 's0', HashKeyRange: { StartingHashKey: '0', EndingHashKey: (half - 1n).toString() } },
      {
        ShardId: 's1',
        HashKeyRange: { StartingHashKey: half.toString(), EndingHashKey: MAX_HASH_KEY.toString() },
      },
    ]);
    const input = records(400, 20);
    const out = aggregate(input, { shardMap, maxBytes: 2000 });
    expect(out.reduce((n, r) => n + r.recordCount, 0)).toBe(400);
    for (const r of out) {
      const users = deaggregate({ data: r.data, partitionKey: r.partitionKey });
      const shards = new Set(users.map((u) => shardMap.shardForKey(u.partitionKey)!.shardId));
      expect([...shards]).toEqual([r.shardId]);
      expect(shardMap.shardFor(r.explicitHashKey ?? hashKeyOf(r.partitionKey))!.shardId).toBe(r.shardId);
    }
    // per-key order is kept
    const back = out.flatMap((r) => deaggregate({ data: r.data, partitionKey: r.partitionKey }));
    for (const shard of ['s0', 's1']) {
      const mine = input.filter((u) => shardMap.shardForKey(u.partitionKey)!.shardId === shard);
      expect(
        back
          .filter((u) => shardMap.shardForKey(u.partitionKey)!.shardId === shard)
          .map((u) => u.partitionKey),
      ).toEqual(mine.map((u) => u.partitionKey));
    }
  });

  it('frame overhead is 20 bytes', () => {
    expect(AGGREGATE_OVERHEAD).toBe(20);
  });
});

describe('isPartitionKeyTooLong', () => {
  it('counts Unicode characters, as Kinesis does, not UTF-16 units', () => {
    expect(isPartitionKeyTooLong('k'.repeat(256))).toBe(false);
    expect(isPartitionKeyTooLong('k'.repeat(257))).toBe(true);
    expect(isPartitionKeyTooLong('😀'.repeat(256))).toBe(false);
    expect(isPartitionKeyTooLong('😀'.repeat(257))).toBe(true);
  });
});
