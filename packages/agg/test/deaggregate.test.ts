import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aggregate,
  type DeaggregatedRecord,
  deaggregate,
  hashKeyOf,
  InvalidAggregateError,
  isAggregated,
  MAGIC,
  MAX_HASH_KEY,
} from '../src/index.js';
import { protobufDecode, protobufEncode } from './helpers.js';

function frame(body: Uint8Array, checksum?: Uint8Array): Buffer {
  const md5 = checksum ?? createHash('md5').update(body).digest();
  return Buffer.concat([MAGIC, body, md5]);
}

const valid = aggregate(
  [
    { partitionKey: 'k1', data: 'one' },
    { partitionKey: 'k2', data: 'two', explicitHashKey: '7' },
    { partitionKey: 'k1', data: 'three' },
  ],
  { mixShards: true },
)[0]!;

const badChecksum = Buffer.from(valid.data);
badChecksum[badChecksum.length - 1]! ^= 1;

const INVALID: [string, string, Uint8Array][] = [
  ['no magic', 'not-aggregated', Buffer.from('plain data')],
  ['empty', 'not-aggregated', new Uint8Array(0)],
  ['magic only', 'too-short', Buffer.from(MAGIC)],
  ['magic but 19 bytes', 'too-short', Buffer.concat([MAGIC, Buffer.alloc(15)])],
  ['bad MD5', 'bad-checksum', badChecksum],
  ['bad protobuf', 'bad-protobuf', frame(Buffer.from([0x1a, 0x05, 0x08]))],
  ['truncated varint', 'bad-protobuf', frame(Buffer.from([0x0a, 0xff]))],
  ['field number 0', 'bad-protobuf', frame(Buffer.from([0x00, 0x01]))],
  ['record without data', 'bad-protobuf', frame(Buffer.from([0x0a, 0x01, 0x61, 0x1a, 0x02, 0x08, 0x00]))],
  ['no records', 'no-records', frame(protobufEncode({ partitionKeyTable: ['a'], records: [] }))],
  [
    'partition key index out of range',
    'index-out-of-range',
    frame(
      protobufEncode({
        partitionKeyTable: ['a'],
        records: [{ partitionKeyIndex: 1, data: Buffer.from('x') }],
      }),
    ),
  ],
  [
    'EHK index out of range',
    'index-out-of-range',
    frame(
      protobufEncode({
        partitionKeyTable: ['a'],
        explicitHashKeyTable: ['1'],
        records: [{ partitionKeyIndex: 0, explicitHashKeyIndex: 3, data: Buffer.from('x') }],
      }),
    ),
  ],
  [
    'huge uint64 index',
    'index-out-of-range',
    frame(Buffer.from([0x0a, 0x01, 0x61, 0x1a, 0x0e, 0x08, ...Array(9).fill(0xff), 0x01, 0x1a, 0x01, 0x78])),
  ],
];

describe('deaggregate: invalid input', () => {
  for (const [name, reason, data] of INVALID) {
    it(`${name}: one plain record by default, ${reason} with onInvalid 'throw'`, () => {
      const input = { data, partitionKey: 'outer', sequenceNumber: '42' };
      const out = deaggregate(input);
      expect(out).toHaveLength(1);
      expect(out[0]).toMatchObject({
        partitionKey: 'outer',
        sequenceNumber: '42',
        subSequenceNumber: 0,
        aggregated: false,
      });
      expect(out[0]!.data).toBe(data);
      let error: unknown;
      try {
        deaggregate(input, { onInvalid: 'throw' });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidAggregateError);
      expect(error).toMatchObject({
        code: 'INVALID_AGGREGATE',
        reason,
        partitionKey: 'outer',
        sequenceNumber: '42',
      });
      if (reason === 'not-aggregated') {
        expect(deaggregate(input, { onInvalid: 'throw-corrupt' })).toHaveLength(1);
      } else {
        expect(() => deaggregate(input, { onInvalid: 'throw-corrupt' })).toThrow(InvalidAggregateError);
      }
    });
  }

  it('verifyChecksum: false accepts a bad MD5', () => {
    expect(deaggregate({ data: badChecksum, partitionKey: 'a' }, { verifyChecksum: false })).toHaveLength(3);
  });

  it('unknown fields and tags are skipped', () => {
    // Record with a tag (field 4) and an unknown varint field 9 at top level
    const body = Buffer.concat([
      Buffer.from([0x48, 0x05]),
      protobufEncode({
        partitionKeyTable: ['k'],
        records: [{ partitionKeyIndex: 0, data: Buffer.from('v') }],
      }),
    ]);
    const withTag = Buffer.from([
      ...body,
      0x1a,
      0x0b,
      0x08,
      0x00,
      0x1a,
      0x01,
      0x77,
      0x22,
      0x04,
      0x0a,
      0x02,
      0x74,
      0x67,
    ]);
    const out = deaggregate({ data: frame(withTag), partitionKey: 'a' }, { onInvalid: 'throw' });
    expect(out.map((r) => Buffer.from(r.data).toString())).toEqual(['v', 'w']);
  });

  it('canonical and non-canonical encodings (tags, tables after records, long varints) decode alike', () => {
    // protobufjs as the reference decoder; the fast path takes canonical KPL messages, the protobufjs reader
    // everything else: both must give the same user records, and the same outcome for invalid ones
    // a varint, padded with `pad` extra zero groups (non-canonical, still valid protobuf)
    const varint = (n: number, pad: number): number[] => {
      const out: number[] = [];
      while (n >= 0x80) {
        out.push((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      if (pad === 0) return [...out, n];
      out.push(n | 0x80);
      for (let i = 1; i < pad; i++) out.push(0x80);
      return [...out, 0];
    };
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 5, unit: 'grapheme' }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.bigInt({ min: 0n, max: MAX_HASH_KEY }), { maxLength: 3 }),
        fc.array(
          fc.record({
            pk: fc.nat(5),
            ehk: fc.option(fc.nat(3), { nil: undefined }),
            data: fc.uint8Array({ maxLength: 40 }),
            tag: fc.boolean(),
          }),
          { maxLength: 6 },
        ),
        fc.nat(6),
        fc.boolean(),
        (pks, ehks, recs, pad, tablesLast) => {
          const str = (tag: number, s: string) => {
            const b = Buffer.from(s);
            return [tag, ...varint(b.length, 0), ...b];
          };
          const tables = [
            ...pks.flatMap((k) => str(0x0a, k)),
            ...ehks.flatMap((h) => str(0x12, h.toString())),
          ];
          const records = recs.flatMap((r) => {
            const inner = [
              0x08,
              ...varint(r.pk, pad),
              ...(r.ehk === undefined ? [] : [0x10, ...varint(r.ehk, 0)]),
              0x1a,
              ...varint(r.data.length, 0),
              ...r.data,
              ...(r.tag ? [0x22, 0x03, 0x0a, 0x01, 0x74] : []),
            ];
            return [0x1a, ...varint(inner.length, 0), ...inner];
          });
          const body = Buffer.from(tablesLast ? [...records, ...tables] : [...tables, ...records]);
          const input = { data: frame(body), partitionKey: 'a', sequenceNumber: '1' };
          const valid =
            recs.length > 0 &&
            recs.every((r) => r.pk < pks.length && (r.ehk === undefined || r.ehk < ehks.length));
          if (!valid) {
            expect(() => deaggregate(input, { onInvalid: 'throw' })).toThrow(InvalidAggregateError);
            return;
          }
          const out = deaggregate(input, { onInvalid: 'throw' });
          expect(
            out.map((r) => [r.partitionKey, r.explicitHashKey, Buffer.from(r.data).toString('hex')]),
          ).toEqual(
            recs.map((r) => [
              pks[r.pk],
              r.ehk === undefined ? undefined : ehks[r.ehk]!.toString(),
              Buffer.from(r.data).toString('hex'),
            ]),
          );
          // and protobufjs's reflection decoder reads the same message
          expect(protobufDecode(input.data).records.map((r) => Buffer.from(r.data).toString('hex'))).toEqual(
            out.map((r) => Buffer.from(r.data).toString('hex')),
          );
          out.forEach((r, i) => {
            expect(r.subSequenceNumber).toBe(i);
            expect(r.aggregated).toBe(true);
            expect(r.data.buffer).toBe(input.data.buffer);
          });
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('random mutations of valid aggregates never throw and always yield >= 1 record', () => {
    const base = aggregate(
      Array.from({ length: 20 }, (_, i) => ({
        partitionKey: `key-${i % 7}-é`,
        data: Buffer.alloc(i * 3, i),
        explicitHashKey: i % 3 === 0 ? String(i * 1000) : undefined,
      })),
      { mixShards: true },
    )[0]!.data;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.nat(base.length),
        fc.boolean(),
        (edits, cut, verifyChecksum) => {
          const bytes = Buffer.from(base);
          for (const [at, value] of edits) bytes[at] = value;
          for (const data of [bytes, bytes.subarray(0, cut)]) {
            const out = deaggregate({ data, partitionKey: 'a', sequenceNumber: '1' }, { verifyChecksum });
            expect(out.length).toBeGreaterThanOrEqual(1);
            for (const r of out) expect(r.data.buffer).toBe(data.buffer);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('deaggregate: inputs and metadata', () => {
  it('accepts GetRecords records, Lambda payloads and plain records', () => {
    const arrival = new Date('2026-01-02T03:04:05.678Z');
    const fromSdk = deaggregate(
      { Data: valid.data, PartitionKey: 'a', SequenceNumber: '99', ApproximateArrivalTimestamp: arrival },
      { shardId: 'shardId-000000000001' },
    );
    expect(fromSdk).toHaveLength(3);
    fromSdk.forEach((r, i) => {
      expect(r).toMatchObject({
        sequenceNumber: '99',
        subSequenceNumber: i,
        approximateArrivalTimestamp: arrival,
        shardId: 'shardId-000000000001',
        aggregated: true,
      });
    });
    expect(fromSdk.map((r) => [r.partitionKey, r.explicitHashKey, Buffer.from(r.data).toString()])).toEqual([
      ['k1', undefined, 'one'],
      ['k2', '7', 'two'],
      ['k1', undefined, 'three'],
    ]);
    const payload = {
      partitionKey: 'a',
      sequenceNumber: '5',
      data: Buffer.from(valid.data).toString('base64'),
      approximateArrivalTimestamp: 1_700_000_000.25,
    };
    const fromPayload = deaggregate(payload);
    expect(fromPayload).toHaveLength(3);
    expect(fromPayload[2]!.approximateArrivalTimestamp!.getTime()).toBe(1_700_000_000_250);
    // sub-records of one Lambda record share one decoded buffer
    expect(fromPayload[0]!.data.buffer).toBe(fromPayload[2]!.data.buffer);
    const plain = deaggregate({ data: Buffer.from('x'), partitionKey: 'p', explicitHashKey: '3' });
    expect(plain[0]).toMatchObject({
      partitionKey: 'p',
      explicitHashKey: '3',
      aggregated: false,
      subSequenceNumber: 0,
    });
  });

  it('a Uint8Array that is not a Buffer works and is not copied', () => {
    const u8 = new Uint8Array(valid.data);
    const out = deaggregate({ data: u8, partitionKey: 'a' });
    expect(out).toHaveLength(3);
    expect(out[0]!.data.buffer).toBe(u8.buffer);
  });

  it('hashKeyRange reports out-of-range records without dropping them', () => {
    const h1 = hashKeyOf('k1');
    const reported: DeaggregatedRecord[] = [];
    const out = deaggregate(
      { data: valid.data, partitionKey: 'a' },
      {
        hashKeyRange: { startingHashKey: h1, endingHashKey: h1.toString() },
        onOutOfRange: (r) => reported.push(r),
      },
    );
    expect(out).toHaveLength(3);
    expect(out.map((r) => r.outOfRange)).toEqual([undefined, true, undefined]);
    expect(reported).toEqual([out[1]]);
    const all = deaggregate(
      { data: valid.data, partitionKey: 'a' },
      { hashKeyRange: { startingHashKey: 0n, endingHashKey: MAX_HASH_KEY } },
    );
    expect(all.every((r) => r.outOfRange === undefined)).toBe(true);
  });

  it('isAggregated is a cheap magic + length test', () => {
    expect(isAggregated(valid.data)).toBe(true);
    expect(isAggregated(Buffer.from(MAGIC))).toBe(false);
    expect(isAggregated(Buffer.from('hello world, hello world'))).toBe(false);
  });
});
