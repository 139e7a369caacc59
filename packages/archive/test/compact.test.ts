import { comparePositions, encodeSequenceKey } from '@kinesis-archive/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { joinChunks, splitChunks } from '../src/chunking.js';
import { CHUNK_BYTES, MAX_INLINE_BYTES } from '../src/index.js';
import type { NormalizedRecord } from '../src/normalize.js';
import { compactBatch } from '../src/writer-latest.js';

const record = fc
  .record({
    key: fc.constantFrom('a', 'b', 'c', 'd'),
    sequenceNumber: fc.oneof(
      fc.bigInt({ min: 0n, max: 10n ** 60n }).map(String),
      fc.constantFrom('9'.repeat(56), `1${'0'.repeat(56)}`),
    ),
    subSequenceNumber: fc.nat({ max: 5 }),
  })
  .map(
    ({ key, sequenceNumber, subSequenceNumber }): NormalizedRecord => ({
      index: 0,
      partitionKey: key,
      sequenceNumber,
      subSequenceNumber,
      sequenceKey: encodeSequenceKey(sequenceNumber, subSequenceNumber),
      data: new Uint8Array(0),
      arrival: undefined,
      shardId: undefined,
      explicitHashKey: undefined,
    }),
  );

describe('compactBatch (LATEST, pure)', () => {
  it('keeps exactly the highest position of every key and accounts for every record', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 60 }), (records) => {
        const { winners, compacted, duplicates } = compactBatch(records);
        expect(winners.length + compacted + duplicates).toBe(records.length);
        const keys = new Set(records.map((r) => r.partitionKey));
        expect(new Set(winners.map((w) => w.partitionKey))).toEqual(keys);
        for (const w of winners) {
          for (const r of records.filter((x) => x.partitionKey === w.partitionKey)) {
            expect(comparePositions(r, w)).toBeLessThanOrEqual(0);
          }
        }
      }),
    );
  });
});

describe('chunks (pure)', () => {
  it('split and join round-trip, each chunk fitting in an item', () => {
    for (const size of [MAX_INLINE_BYTES + 1, CHUNK_BYTES * 2, CHUNK_BYTES * 3 - 1, 1_048_576]) {
      const data = Uint8Array.from({ length: size }, (_, i) => (i * 31) % 256);
      const chunks = splitChunks(data);
      expect(chunks.length).toBe(Math.ceil(size / CHUNK_BYTES));
      expect(chunks.every((c) => c.byteLength <= CHUNK_BYTES && c.byteLength > 0)).toBe(true);
      expect(Buffer.from(joinChunks(chunks)).equals(Buffer.from(data))).toBe(true);
    }
  });
});
