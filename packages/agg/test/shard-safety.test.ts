import * as crypto from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AggregatedRecord,
  type AggregateOptions,
  Aggregator,
  aggregate,
  aggregateStream,
  deaggregate,
  hashKeyOf,
  InvalidOptionError,
  MAX_HASH_KEY,
  RecordTooLargeError,
  type ShardDescription,
  ShardMap,
  ShardMapRequiredError,
  type UserRecord,
} from '../src/index.js';
import { keyHashWords, wordsHashKey } from '../src/key-hash.js';

/** The three open shards of the KPL's own aggregator test (one parent split in two, and its sibling). */
const kplShards: ShardDescription[] = [
  {
    ShardId: 'shardId-000000000001',
    HashKeyRange: {
      StartingHashKey: '170141183460469231731687303715884105728',
      EndingHashKey: '340282366920938463463374607431768211455',
    },
  },
  {
    ShardId: 'shardId-000000000002',
    ParentShardId: 'shardId-000000000000',
    HashKeyRange: { StartingHashKey: '0', EndingHashKey: '85070591730234615865843651857942052862' },
  },
  {
    ShardId: 'shardId-000000000003',
    ParentShardId: 'shardId-000000000000',
    HashKeyRange: {
      StartingHashKey: '85070591730234615865843651857942052863',
      EndingHashKey: '170141183460469231731687303715884105727',
    },
  },
];
const kplHashKeyOf: Record<number, string> = {
  1: '170141183460469231731687303715884105728',
  2: '0',
  3: '85070591730234615865843651857942052863',
};
const COUNT_LIMIT = 100;

/** The user records inside an emitted record (itself, when it is not an aggregate). */
const usersOf = (r: AggregatedRecord) =>
  r.recordCount === 1
    ? [{ partitionKey: r.partitionKey, explicitHashKey: r.explicitHashKey, data: r.data }]
    : deaggregate({ data: r.data, partitionKey: r.partitionKey }, { onInvalid: 'throw' });

describe('no default that mixes shards', () => {
  const records: UserRecord[] = [
    { partitionKey: 'k1', data: 'a' },
    { partitionKey: 'k2', data: 'b' },
  ];

  it('aggregate, Aggregator and aggregateStream without a shard map throw ShardMapRequiredError', () => {
    const calls: (() => unknown)[] = [
      () => aggregate(records, undefined as unknown as AggregateOptions),
      () => aggregate(records, {} as AggregateOptions),
      () => aggregate(records, { maxBytes: 1000 } as AggregateOptions),
      () => aggregate(records, { mixShards: false } as AggregateOptions),
      () => new Aggregator(undefined as unknown as AggregateOptions),
      () => new Aggregator({ shardMap: undefined } as unknown as AggregateOptions),
      // at the call, before the source is read
      () => aggregateStream(records, {} as AggregateOptions),
    ];
    for (const call of calls) {
      let error: unknown;
      try {
        call();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ShardMapRequiredError);
      expect((error as ShardMapRequiredError).code).toBe('SHARD_MAP_REQUIRED');
      expect((error as Error).message).toMatch(/shardMap/);
      expect((error as Error).message).toMatch(/mixShards: true/);
    }
  });

  it('rejects a shard map together with mixShards, and values of the wrong type', () => {
    const shardMap = new ShardMap(kplShards);
    expect(() => aggregate(records, { shardMap, mixShards: true } as unknown as AggregateOptions)).toThrow(
      InvalidOptionError,
    );
    expect(() => aggregate(records, { mixShards: 'yes' } as unknown as AggregateOptions)).toThrow(
      InvalidOptionError,
    );
    expect(() => aggregate(records, { shardMap: kplShards } as unknown as AggregateOptions)).toThrow(
      InvalidOptionError,
    );
  });

  it('mixShards: true is the explicit opt-in: every key in one aggregate, routed by the first', () => {
    const out = aggregate(records, { mixShards: true });
    expect(out).toHaveLength(1);
    expect(out[0]!.recordCount).toBe(2);
    expect(out[0]!.explicitHashKey).toBe(hashKeyOf('k1').toString());
    expect(out[0]!.shardId).toBeUndefined();
  });
});

describe('the KPL aggregator tests, ported', () => {
  it('Basic: records of each shard fill an aggregate of that shard only', () => {
    const shardMap = new ShardMap(kplShards);
    const aggregator = new Aggregator({ shardMap, maxRecords: COUNT_LIMIT });
    for (const shard of [1, 2, 3]) {
      const given: UserRecord[] = [];
      for (let i = 0; i < COUNT_LIMIT; i++) {
        const record = { partitionKey: 'pk', data: String(i), explicitHashKey: kplHashKeyOf[shard]! };
        given.push(record);
        expect(aggregator.add(record)).toEqual([]);
        // the record is predicted to the shard whose range starts at its hash key
        expect(shardMap.shardFor(record.explicitHashKey)?.shardId).toBe(`shardId-00000000000${shard}`);
      }
      const [kr, ...more] = aggregator.flush();
      expect(more).toEqual([]);
      expect(kr!.shardId).toBe(`shardId-00000000000${shard}`);
      expect(kr!.recordCount).toBe(COUNT_LIMIT);
      expect(kr!.explicitHashKey).toBe(kplHashKeyOf[shard]);
      expect(
        usersOf(kr!).map((u) => ({
          partitionKey: u.partitionKey,
          explicitHashKey: u.explicitHashKey,
          data: Buffer.from(u.data).toString(),
        })),
      ).toEqual(given);
    }
  });

  it('the count limit closes an aggregate of one shard only', () => {
    const shardMap = new ShardMap(kplShards);
    const aggregator = new Aggregator({ shardMap, maxRecords: COUNT_LIMIT });
    const out: AggregatedRecord[] = [];
    for (let i = 0; i < 3 * COUNT_LIMIT + 1; i++) {
      const shard = (i % 3) + 1;
      out.push(
        ...aggregator.add({ partitionKey: 'pk', data: String(i), explicitHashKey: kplHashKeyOf[shard]! }),
      );
    }
    out.push(...aggregator.flush());
    // shard 1 reached the limit first (its 101st record closed it); the flush sends the rest, by hash range
    expect(out.map((r) => [r.shardId, r.recordCount])).toEqual([
      ['shardId-000000000001', 100],
      ['shardId-000000000002', 100],
      ['shardId-000000000003', 100],
      ['shardId-000000000001', 1],
    ]);
    for (const r of out) {
      for (const u of usersOf(r)) expect(shardMap.shardFor(u.explicitHashKey!)?.shardId).toBe(r.shardId);
    }
    expect(out.reduce((n, r) => n + r.recordCount, 0)).toBe(3 * COUNT_LIMIT + 1);
  });

  it('ShardMapDown: with a map that has no shards, every record goes out at once, un-aggregated, flagged', () => {
    const aggregator = new Aggregator({ shardMap: new ShardMap([]) });
    const random = fc.sample(
      fc.record({ pk: fc.string({ minLength: 1, maxLength: 30 }), ehk: fc.bigInt(0n, MAX_HASH_KEY) }),
      { numRuns: 100, seed: 42 },
    );
    for (const [i, { pk, ehk }] of random.entries()) {
      const data = Buffer.from(`record ${i}`);
      const out = aggregator.add({ partitionKey: pk, data, explicitHashKey: ehk.toString() });
      expect(out).toEqual([
        { partitionKey: pk, explicitHashKey: ehk.toString(), data, recordCount: 1, staleShardMap: true },
      ]);
      expect(out[0]!.data).toBe(data);
      expect(aggregator.pendingRecords).toBe(0);
    }
    expect(aggregator.flush()).toEqual([]);
  });

  it('a stale map: keys it has a shard for are aggregated, the others go out alone and flagged', () => {
    // the map still lists shard 1 only (loaded before shards 2 and 3 were listed, say)
    const shardMap = new ShardMap([kplShards[0]!]);
    const input: UserRecord[] = Array.from({ length: 200 }, (_, i) => ({
      partitionKey: `user-${i}`,
      data: `payload ${i}`,
    }));
    const out = aggregate(input, { shardMap });
    const owned = input.filter((r) => hashKeyOf(r.partitionKey) >= BigInt(kplHashKeyOf[1]!));
    const lone = out.filter((r) => r.staleShardMap);
    expect(lone.map((r) => r.partitionKey)).toEqual(
      input.filter((r) => !owned.includes(r)).map((r) => r.partitionKey),
    );
    for (const r of lone) {
      expect(r.recordCount).toBe(1);
      expect(r.shardId).toBeUndefined();
    }
    const aggregates = out.filter((r) => !r.staleShardMap);
    expect(aggregates).toHaveLength(1);
    expect(aggregates[0]!.shardId).toBe('shardId-000000000001');
    expect(usersOf(aggregates[0]!).map((u) => u.partitionKey)).toEqual(owned.map((r) => r.partitionKey));
  });

  it('a record rejected while the map is stale leaves the aggregator unchanged', () => {
    const aggregator = new Aggregator({ shardMap: new ShardMap([]), maxBytes: 100 });
    expect(() => aggregator.add({ partitionKey: 'k', data: Buffer.alloc(100) })).toThrow(RecordTooLargeError);
    expect(aggregator.pendingRecords).toBe(0);
    expect(aggregator.add({ partitionKey: 'k', data: 'ok' })).toHaveLength(1);
  });
});

/** A random map: sorted random split points over the whole hash range, some shards left out (a stale map). */
const shardMapArb = fc
  .tuple(
    fc.uniqueArray(fc.bigInt(1n, MAX_HASH_KEY), { maxLength: 70 }),
    fc.array(fc.boolean(), { minLength: 71, maxLength: 71 }),
  )
  .map(([cuts, keep]) => {
    const points = [0n, ...cuts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), MAX_HASH_KEY + 1n];
    const shards: ShardDescription[] = [];
    for (let i = 0; i + 1 < points.length; i++) {
      if (!keep[i] && i % 3 === 0) continue; // a gap
      shards.push({
        ShardId: `shardId-${String(i).padStart(12, '0')}`,
        HashKeyRange: {
          StartingHashKey: points[i]!.toString(),
          EndingHashKey: (points[i + 1]! - 1n).toString(),
        },
      });
    }
    return shards;
  });

const userRecordArb = fc.record(
  {
    partitionKey: fc.oneof(
      fc.string({ minLength: 1, maxLength: 24 }),
      fc.constantFrom('hot-1', 'hot-2', 'hot-3'),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
    ),
    data: fc.string({ maxLength: 30 }),
    explicitHashKey: fc.option(fc.bigInt(0n, MAX_HASH_KEY).map(String), { nil: undefined, freq: 5 }),
  },
  { requiredKeys: ['partitionKey', 'data'] },
);

describe('property: an aggregate never leaves the shard its own hash key routes to', () => {
  it('for random keys over a random shard map', () => {
    fc.assert(
      fc.property(
        shardMapArb,
        fc.array(userRecordArb, { maxLength: 150 }),
        fc.integer({ min: 200, max: 3000 }),
        (shards, input, maxBytes) => {
          const shardMap = new ShardMap(shards);
          const out = aggregate(input, { shardMap, maxBytes });
          const back: { partitionKey: string; explicitHashKey?: string | undefined; data: string }[] = [];
          for (const r of out) {
            const users = usersOf(r);
            const owner = shardMap.shardFor(hashKeyOf(r.partitionKey, r.explicitHashKey));
            if (owner === undefined) {
              // only a lone record the map had no shard for
              expect(r.recordCount).toBe(1);
              expect(r.staleShardMap).toBe(true);
            } else {
              expect(r.staleShardMap).toBeUndefined();
              expect(r.shardId).toBe(owner.shardId);
              for (const u of users) {
                const h = hashKeyOf(u.partitionKey, u.explicitHashKey);
                expect(h >= owner.startingHashKey && h <= owner.endingHashKey).toBe(true);
              }
            }
            for (const u of users) {
              back.push({
                partitionKey: u.partitionKey,
                explicitHashKey: u.explicitHashKey,
                data: Buffer.from(u.data).toString(),
              });
            }
          }
          // every record once, and the records of one key in their order
          expect(back).toHaveLength(input.length);
          // records routed alike (same key and explicit hash key) keep their order
          const byRoute = (
            rs: { partitionKey: string; explicitHashKey?: string | undefined; data: string }[],
          ) => {
            const m = new Map<string, string[]>();
            for (const r of rs) {
              const route = `${r.partitionKey}\u0000${r.explicitHashKey ?? ''}`;
              m.set(route, [...(m.get(route) ?? []), r.data]);
            }
            return m;
          };
          expect(byRoute(back)).toEqual(byRoute(input.map((r) => ({ ...r, data: String(r.data) }))));
        },
      ),
      { numRuns: 300, seed: 15 },
    );
  });
});

describe('keyHashWords (the JavaScript MD5 that routes records)', () => {
  it('equals node:crypto MD5 for any string', () => {
    const words = new Uint32Array(4);
    const check = (s: string) => {
      keyHashWords(s, words);
      const expected = crypto.createHash('md5').update(s, 'utf8').digest();
      expect(wordsHashKey(words)).toBe((expected.readBigUInt64BE(0) << 64n) | expected.readBigUInt64BE(8));
    };
    // block boundaries: 55 and 56 bytes (the length no longer fits the first block), 64, 119, 120
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 256, 512, 513, 2000]) check('k'.repeat(n));
    check('é'.repeat(28)); // 56 bytes
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string({ unit: 'grapheme', maxLength: 256 }),
          fc.string({ unit: 'binary', maxLength: 256 }),
          fc.string({ unit: 'binary', minLength: 500, maxLength: 600 }),
        ),
        check,
      ),
      { numRuns: 2000, seed: 7 },
    );
  });
});
