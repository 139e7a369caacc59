import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Aggregator, aggregate, InvalidPartitionKeyError, type UserRecord } from '../src/index.js';
import { userRecords } from './helpers.js';

describe('partition keys with lone surrogates', () => {
  it('are rejected: UTF-8 cannot carry them, distinct keys would come back as one U+FFFD key', () => {
    for (const partitionKey of ['a\uD800', 'a\uDC00', '\uDBFF', `${'x'.repeat(70)}\uD83D`, '\uDE42\uD83D']) {
      expect(() => aggregate([{ partitionKey, data: 'x' }], { mixShards: true })).toThrow(
        InvalidPartitionKeyError,
      );
    }
    const agg = new Aggregator({ mixShards: true });
    agg.add({ partitionKey: 'a\uD83D\uDE42', data: '1' });
    expect(() => agg.add({ partitionKey: 'a\uD800', data: '2' })).toThrow(InvalidPartitionKeyError);
    agg.add({ partitionKey: 'é', data: '3' });
    expect(agg.pendingRecords).toBe(2);
    expect(userRecords(agg.flush())).toEqual([
      { partitionKey: 'a\uD83D\uDE42', data: '1' },
      { partitionKey: 'é', data: '3' },
    ]);
  });

  it('any accepted partition key comes back unchanged', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({
            unit: fc.integer({ min: 0xd7f0, max: 0xe010 }).map((c) => String.fromCharCode(c)),
            minLength: 1,
            maxLength: 6,
          }),
          {
            minLength: 2,
            maxLength: 10,
          },
        ),
        (keys) => {
          const agg = new Aggregator({ mixShards: true });
          const kept: UserRecord[] = [];
          keys.forEach((partitionKey, i) => {
            try {
              agg.add({ partitionKey, data: String(i) });
              kept.push({ partitionKey, data: String(i) });
            } catch (error) {
              expect(error).toBeInstanceOf(InvalidPartitionKeyError);
            }
          });
          expect(userRecords(agg.flush())).toEqual(kept);
        },
      ),
      { numRuns: 500 },
    );
  });
});
