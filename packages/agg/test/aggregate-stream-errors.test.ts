import { describe, expect, it } from 'vitest';
import { aggregateStream, InvalidPartitionKeyError, type UserRecord } from '../src/index.js';
import { userRecords } from './helpers.js';

describe('aggregateStream', () => {
  const ok = (i: number): UserRecord => ({ partitionKey: `k${i}`, data: `d${i}` });

  it('a rejected record: the records before it are yielded before the error', async () => {
    async function* source() {
      yield ok(0);
      yield ok(1);
      yield { partitionKey: '', data: 'bad' };
      yield ok(3);
    }
    const got: { data: Uint8Array; partitionKey: string; recordCount: number }[] = [];
    let error: unknown;
    try {
      for await (const r of aggregateStream(source(), { mixShards: true })) got.push(r);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidPartitionKeyError);
    expect((error as InvalidPartitionKeyError).index).toBe(2);
    expect(userRecords(got)).toEqual([ok(0), ok(1)]);
  });

  it('a failing source: the records it gave are yielded before its error', async () => {
    const boom = new Error('source failed');
    async function* source() {
      yield ok(0);
      yield ok(1);
      yield ok(2);
      throw boom;
    }
    const got: { data: Uint8Array; partitionKey: string; recordCount: number }[] = [];
    let error: unknown;
    try {
      for await (const r of aggregateStream(source(), { mixShards: true, maxRecords: 2 })) got.push(r);
    } catch (e) {
      error = e;
    }
    expect(error).toBe(boom);
    expect(userRecords(got)).toEqual([ok(0), ok(1), ok(2)]);
  });

  it('a consumer that stops early gets nothing more', async () => {
    const got = [];
    for await (const r of aggregateStream([ok(0), ok(1), ok(2), ok(3)], { mixShards: true, maxRecords: 1 })) {
      got.push(r);
      if (got.length === 2) break;
    }
    expect(userRecords(got)).toEqual([ok(0), ok(1)]);
  });
});
