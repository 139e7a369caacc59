import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AggregatedRecord,
  Aggregator,
  aggregate,
  deaggregate,
  hashKeyOf,
  MAX_HASH_KEY,
  type ShardDescription,
  ShardMap,
} from '../src/index.js';

/** Maps of 1, 2, 3 and 5 shards of equal width. */
const layouts: ShardDescription[][] = [1, 2, 3, 5].map((n) => {
  const w = (MAX_HASH_KEY + 1n) / BigInt(n);
  return Array.from({ length: n }, (_, i) => ({
    ShardId: `n${n}-${i}`,
    HashKeyRange: {
      StartingHashKey: (w * BigInt(i)).toString(),
      EndingHashKey: (i === n - 1 ? MAX_HASH_KEY : w * BigInt(i + 1) - 1n).toString(),
    },
  }));
});

const usersOf = (r: AggregatedRecord) =>
  r.recordCount === 1
    ? [{ partitionKey: r.partitionKey, explicitHashKey: r.explicitHashKey, data: r.data }]
    : deaggregate({ data: r.data, partitionKey: r.partitionKey }, { onInvalid: 'throw' });

describe('Aggregator with a shard map that is refreshed at any time', () => {
  it('every record once, per-key order, under maxBytes, each aggregate inside the shard it names', async () => {
    const op = fc.oneof(
      { weight: 8, arbitrary: fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 40 })) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: layouts.length - 1 }) },
      { weight: 1, arbitrary: fc.constant('flush' as const) },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 80 }),
        fc.integer({ min: 60, max: 1200 }),
        fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
        async (ops, maxBytes, maxRecords) => {
          const current = { shards: layouts[0]! };
          const shardMap = await ShardMap.load(
            { send: async () => ({ Shards: current.shards }) },
            { streamName: 's' },
          );
          const agg = new Aggregator({ shardMap, maxBytes, maxRecords });
          const sent: string[] = [];
          const got: string[] = [];
          const take = (emitted: AggregatedRecord[]) => {
            for (const r of emitted) {
              expect(r.data.length + Buffer.byteLength(r.partitionKey)).toBeLessThanOrEqual(maxBytes);
              expect(shardMap.shardFor(hashKeyOf(r.partitionKey, r.explicitHashKey))?.shardId).toBe(
                r.shardId,
              );
              for (const u of usersOf(r)) {
                expect(shardMap.shardFor(hashKeyOf(u.partitionKey, u.explicitHashKey))?.shardId).toBe(
                  r.shardId,
                );
                got.push(Buffer.from(u.data).toString());
              }
            }
          };
          for (const o of ops) {
            if (o === 'flush') take(agg.flush());
            else if (typeof o === 'number') {
              current.shards = layouts[o]!;
              await shardMap.refresh();
            } else {
              const data = `${o[0]}:${sent.length}:${'x'.repeat(o[1])}`;
              take(agg.add({ partitionKey: `k${o[0]}`, data }));
              sent.push(data);
            }
          }
          take(agg.flush());
          expect(agg.pendingRecords).toBe(0);
          expect([...got].sort()).toEqual([...sent].sort());
          for (let k = 0; k <= 6; k++) {
            const ofKey = (list: string[]) => list.filter((d) => d.startsWith(`${k}:`));
            expect(ofKey(got)).toEqual(ofKey(sent));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('Aggregator with rejected records, multi-byte keys and explicit hash keys', () => {
  const Q = (MAX_HASH_KEY + 1n) / 4n;
  // a map with a gap (no shard owns [2Q+1, 3Q-1])
  const map = new ShardMap([
    { ShardId: 's0', HashKeyRange: { StartingHashKey: '0', EndingHashKey: (Q - 1n).toString() } },
    { ShardId: 's1', HashKeyRange: { StartingHashKey: Q.toString(), EndingHashKey: (2n * Q).toString() } },
    {
      ShardId: 's3',
      HashKeyRange: { StartingHashKey: (3n * Q).toString(), EndingHashKey: MAX_HASH_KEY.toString() },
    },
  ]);
  const key = fc.oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
    fc.string({ unit: 'binary', minLength: 0, maxLength: 300 }),
    fc.constantFrom('k', '🙂', 'é', 'a\uD800'),
  );
  const ehk = fc
    .oneof(
      fc.bigInt({ min: 0n, max: MAX_HASH_KEY }),
      fc.constantFrom(0n, Q - 1n, Q, 2n * Q, 2n * Q + 1n, 3n * Q - 1n, 3n * Q, MAX_HASH_KEY),
    )
    .map(String);
  const op = fc.oneof(
    {
      weight: 10,
      arbitrary: fc.record({
        partitionKey: key,
        size: fc.integer({ min: 0, max: 400 }),
        explicitHashKey: fc.option(
          fc.oneof(ehk, fc.constantFrom('01', '-1', (MAX_HASH_KEY + 1n).toString())),
          {
            nil: undefined,
          },
        ),
      }),
    },
    { weight: 1, arbitrary: fc.constant('flush' as const) },
  );

  it('every accepted record comes out once, in order, under maxBytes; rejected ones change nothing', () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 60 }),
        fc.integer({ min: 30, max: 1500 }),
        fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
        fc.boolean(),
        fc.constantFrom('a', 'ü', '🙂🙂'),
        (ops, maxBytes, maxRecords, useMap, aggregatePartitionKey) => {
          const agg = new Aggregator({
            maxBytes,
            maxRecords,
            ...(useMap ? { shardMap: map } : { mixShards: true as const }),
            aggregatePartitionKey,
          });
          const accepted: string[] = [];
          const got: string[] = [];
          const take = (emitted: AggregatedRecord[]) => {
            for (const r of emitted) {
              expect(r.data.length + Buffer.byteLength(r.partitionKey)).toBeLessThanOrEqual(maxBytes);
              const users = usersOf(r);
              expect(users).toHaveLength(r.recordCount);
              if (maxRecords) expect(r.recordCount).toBeLessThanOrEqual(maxRecords);
              if (useMap) {
                expect(map.shardFor(hashKeyOf(r.partitionKey, r.explicitHashKey))?.shardId).toBe(r.shardId);
                for (const u of users) {
                  expect(map.shardFor(hashKeyOf(u.partitionKey, u.explicitHashKey))?.shardId).toBe(r.shardId);
                }
              }
              for (const u of users) {
                got.push(`${u.partitionKey}|${u.explicitHashKey}|${Buffer.from(u.data).toString()}`);
              }
            }
          };
          let n = 0;
          for (const o of ops) {
            if (o === 'flush') {
              take(agg.flush());
              continue;
            }
            const data = Buffer.concat([Buffer.from(`#${n++}`), Buffer.alloc(o.size, 0x41)]);
            const pending = agg.pendingRecords;
            let emitted: AggregatedRecord[];
            try {
              emitted = agg.add({ partitionKey: o.partitionKey, data, explicitHashKey: o.explicitHashKey });
            } catch {
              expect(agg.pendingRecords).toBe(pending);
              continue;
            }
            take(emitted);
            accepted.push(`${o.partitionKey}|${o.explicitHashKey}|${data.toString()}`);
          }
          take(agg.flush());
          expect(agg.pendingRecords).toBe(0);
          if (useMap) expect([...got].sort()).toEqual([...accepted].sort());
          else expect(got).toEqual(accepted);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('deaggregate: views into the input', () => {
  it('pool Buffers, subarrays, foreign offsets and SharedArrayBuffers give the right bytes', () => {
    const recs = Array.from({ length: 5 }, (_, i) => ({
      partitionKey: `k${i}`,
      data: Buffer.alloc(i * 7, i + 1),
    }));
    const a = aggregate(recs, { mixShards: true })[0]!.data;
    const pooled = Buffer.from(Buffer.from(a).toString('base64'), 'base64');
    const big = Buffer.alloc(a.length + 37, 0xee);
    Buffer.from(a).copy(big, 13);
    const shared = new Uint8Array(new SharedArrayBuffer(a.length + 5), 5);
    shared.set(a);
    for (const data of [
      pooled,
      big.subarray(13, 13 + a.length),
      new Uint8Array(big.buffer, big.byteOffset + 13, a.length),
      shared,
    ]) {
      const out = deaggregate({ data, partitionKey: 'a', sequenceNumber: '7' });
      expect(
        out.map((r) => [
          r.partitionKey,
          Buffer.from(r.data).toString('hex'),
          r.subSequenceNumber,
          r.sequenceNumber,
        ]),
      ).toEqual(recs.map((r, i) => [r.partitionKey, r.data.toString('hex'), i, '7']));
    }
  });
});
