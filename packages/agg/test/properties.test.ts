import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aggregate, deaggregate, MAX_HASH_KEY, type UserRecord } from '../src/index.js';
import { protobufDecode } from './helpers.js';

const key = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 256 }).filter((s) => {
  const n = [...s].length;
  return n >= 1 && n <= 256;
});
const unicodeKey = fc.oneof(key, fc.string({ unit: 'binary', minLength: 1, maxLength: 256 }));
const ehk = fc.bigInt({ min: 0n, max: MAX_HASH_KEY }).map(String);

function recordArb(maxData: number): fc.Arbitrary<UserRecord> {
  return fc.record(
    {
      partitionKey: unicodeKey,
      data: fc.oneof(
        fc.uint8Array({ minLength: 0, maxLength: maxData }),
        fc.integer({ min: 0, max: maxData }).map((n) => new Uint8Array(n)),
        fc.string({ maxLength: 40 }),
      ),
      explicitHashKey: fc.option(ehk, { nil: undefined }),
    },
    { requiredKeys: ['partitionKey', 'data'] },
  );
}

const bytesOf = (d: Uint8Array | string) => (typeof d === 'string' ? Buffer.from(d, 'utf8') : Buffer.from(d));

describe('properties', () => {
  it('round trip is exact, nothing over the limit, recordCount sums to the input count', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 700, max: 4000 })
          .chain((maxBytes) =>
            fc.tuple(fc.constant(maxBytes), fc.array(recordArb(maxBytes - 600 - 1), { maxLength: 40 })),
          ),
        ([maxBytes, input]) => {
          // a record must fit alone: data + key bytes <= maxBytes (keys are <= 256 chars, <= 1024 bytes... trim)
          const records = input.filter(
            (r) => bytesOf(r.data).length + Buffer.byteLength(r.partitionKey) <= maxBytes,
          );
          const out = aggregate(records, { mixShards: true, maxBytes });
          expect(out.reduce((n, r) => n + r.recordCount, 0)).toBe(records.length);
          for (const r of out) {
            expect(r.data.length + Buffer.byteLength(r.partitionKey)).toBeLessThanOrEqual(maxBytes);
            if (r.recordCount > 1) expect(protobufDecode(r.data).records).toHaveLength(r.recordCount);
          }
          const back = out.flatMap(
            (r): { partitionKey: string; explicitHashKey?: string | undefined; data: Uint8Array }[] =>
              r.recordCount === 1
                ? [{ partitionKey: r.partitionKey, explicitHashKey: r.explicitHashKey, data: r.data }]
                : deaggregate({ data: r.data, partitionKey: r.partitionKey }, { onInvalid: 'throw' }),
          );
          expect(
            back.map((r) => [r.partitionKey, r.explicitHashKey, Buffer.from(r.data).toString('hex')]),
          ).toEqual(records.map((r) => [r.partitionKey, r.explicitHashKey, bytesOf(r.data).toString('hex')]));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('data sizes up to maxBytes: records that fit alone are accepted, larger ones rejected', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 50, max: 2000 }),
        fc.array(
          fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.double({ min: 0, max: 1, noNaN: true })),
          {
            minLength: 1,
            maxLength: 20,
          },
        ),
        (maxBytes, specs) => {
          const records = specs.map(([partitionKey, f]) => ({
            partitionKey,
            data: new Uint8Array(Math.floor(f * (maxBytes - Buffer.byteLength(partitionKey)))),
          }));
          const out = aggregate(records, { mixShards: true, maxBytes });
          expect(out.reduce((n, r) => n + r.recordCount, 0)).toBe(records.length);
          for (const r of out)
            expect(r.data.length + Buffer.byteLength(r.partitionKey)).toBeLessThanOrEqual(maxBytes);
        },
      ),
      { numRuns: 300 },
    );
  });
});
