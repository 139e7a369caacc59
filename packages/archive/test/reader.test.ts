import { randomBytes } from 'node:crypto';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ArchivedRecord, type ArchiveMode, ArchiveReader, ArchiveWriter } from '../src/index.js';
import { collect, freshTable, rec, seq } from './helpers.js';

const { clients } = localAws();
const dynamodb = clients.dynamodb;
afterAll(() => clients.destroy());

function withArrival(partitionKey: string, sequenceNumber: string, arrivalMs: number, data?: Uint8Array) {
  return { ...rec(partitionKey, sequenceNumber, data), approximateArrivalTimestamp: new Date(arrivalMs) };
}

describe('paging past 1 MB (ALL)', () => {
  const KEYS = 3;
  const PER_KEY = 30;
  let reader: ArchiveReader;
  beforeAll(async () => {
    const tableName = await freshTable(dynamodb, 'ALL');
    const writer = new ArchiveWriter({ dynamodb, tableName, mode: 'ALL' });
    // 90 records of 60 KB = 5.4 MB: every key's history and the table span several 1 MB pages.
    const records = Array.from({ length: KEYS * PER_KEY }, (_, i) =>
      withArrival(`key-${i % KEYS}`, seq(i), 1_000_000 + i * 1000, randomBytes(60_000)),
    );
    const result = await writer.write(records);
    expect(result.written).toBe(KEYS * PER_KEY);
    reader = new ArchiveReader({ dynamodb, tableName, mode: 'ALL', consistentRead: true });
  });

  it('query returns a whole history in order across pages', async () => {
    const got = await collect(reader.query({ partitionKey: 'key-1' }));
    expect(got.length).toBe(PER_KEY);
    expect(got.map((r) => r.sequenceNumber)).toEqual(
      Array.from({ length: PER_KEY }, (_, i) => seq(i * KEYS + 1)),
    );
    expect(got.every((r) => r.data.byteLength === 60_000)).toBe(true);
  });

  it('query honours limit as a total, ranges and order', async () => {
    expect((await collect(reader.query({ partitionKey: 'key-0', limit: 25 }))).length).toBe(25);
    const range = await collect(
      reader.query({ partitionKey: 'key-0', fromSequence: seq(30), toSequence: seq(45) }),
    );
    expect(range.map((r) => r.sequenceNumber)).toEqual([30, 33, 36, 39, 42, 45].map(seq));
    const desc = await collect(reader.query({ partitionKey: 'key-0', order: 'desc', limit: 2 }));
    expect(desc.map((r) => r.sequenceNumber)).toEqual([seq(87), seq(84)]);
  });

  it('query time filters use the arrival time (from inclusive, to exclusive)', async () => {
    const got = await collect(
      reader.query({
        partitionKey: 'key-2',
        from: new Date(1_000_000 + 5_000),
        to: new Date(1_000_000 + 14_000),
      }),
    );
    expect(got.map((r) => r.sequenceNumber)).toEqual([5, 8, 11].map(seq));
  });

  it('query resumes after a returned record', async () => {
    const first = await collect(reader.query({ partitionKey: 'key-1', limit: 7 }));
    const rest = await collect(reader.query({ partitionKey: 'key-1', startAfter: first.at(-1)! }));
    expect([...first, ...rest].map((r) => r.sequenceNumber)).toEqual(
      Array.from({ length: PER_KEY }, (_, i) => seq(i * KEYS + 1)),
    );
  });

  it('scan returns every record once, with limit as a total', async () => {
    const all = await collect(reader.scan());
    expect(all.length).toBe(KEYS * PER_KEY);
    expect(new Set(all.map((r) => r.sequenceNumber)).size).toBe(KEYS * PER_KEY);
    expect((await collect(reader.scan({ limit: 31 }))).length).toBe(31);
  });

  it('parallel segments together return every record exactly once', async () => {
    const parts = await Promise.all(
      [0, 1, 2, 3].map((segment) => collect(reader.scan({ segment, totalSegments: 4 }))),
    );
    const all = parts.flat().map((r) => r.sequenceNumber);
    expect(all.length).toBe(KEYS * PER_KEY);
    expect(new Set(all).size).toBe(KEYS * PER_KEY);
  });

  it('scan resumes after a returned record (per segment)', async () => {
    const seen: ArchivedRecord[] = [];
    for (const segment of [0, 1]) {
      const first = await collect(reader.scan({ segment, totalSegments: 2, limit: 5 }));
      const rest = first.length
        ? await collect(reader.scan({ segment, totalSegments: 2, startAfter: first.at(-1)! }))
        : [];
      seen.push(...first, ...rest);
    }
    expect(new Set(seen.map((r) => r.sequenceNumber)).size).toBe(KEYS * PER_KEY);
    expect(seen.length).toBe(KEYS * PER_KEY);
  });

  it('scan time filters', async () => {
    const got = await collect(reader.scan({ from: new Date(1_000_000 + 80_000) }));
    expect(got.map((r) => r.sequenceNumber).sort()).toEqual(
      [80, 81, 82, 83, 84, 85, 86, 87, 88, 89].map(seq),
    );
  });
});

describe.each(['ALL', 'LATEST'] as const)('TTL (%s)', (mode: ArchiveMode) => {
  it('never returns items past expireAfter, even before DynamoDB deletes them', async () => {
    // TTL off on the table: DynamoDB never deletes, so only the reader's filter hides expired items.
    const tableName = await freshTable(dynamodb, mode, { ttl: false });
    const expiring = new ArchiveWriter({ dynamodb, tableName, mode, ttlSeconds: 5 });
    const lasting = new ArchiveWriter({ dynamodb, tableName, mode, ttlSeconds: 3600 });
    const reader = new ArchiveReader({ dynamodb, tableName, mode, consistentRead: true });
    await expiring.write([rec('gone', seq(1)), rec('gone', seq(2))]);
    await lasting.write([rec('kept', seq(3))]);
    const before = await reader.get('gone');
    const expiresAt = before!.expireAfter!.getTime();
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 5000);
    // wait until the item is past its TTL (epoch seconds), whatever the machine's load
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 1100));
    expect(await reader.get('gone')).toBeUndefined();
    expect(await collect(reader.query({ partitionKey: 'gone' }))).toEqual([]);
    const scanned = await collect(reader.scan());
    expect(scanned.map((r) => r.partitionKey)).toEqual(['kept']);
    const kept = await reader.get('kept');
    const ttl = kept!.expireAfter!.getTime() - Date.now();
    expect(ttl).toBeGreaterThan(3_590_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
  });
});

describe('LATEST query', () => {
  it('returns the one record of a key within the range', async () => {
    const tableName = await freshTable(dynamodb, 'LATEST');
    const writer = new ArchiveWriter({ dynamodb, tableName, mode: 'LATEST' });
    const reader = new ArchiveReader({ dynamodb, tableName, mode: 'LATEST', consistentRead: true });
    await writer.write([rec('k', seq(5))]);
    expect((await collect(reader.query({ partitionKey: 'k' }))).map((r) => r.sequenceNumber)).toEqual([
      seq(5),
    ]);
    expect(await collect(reader.query({ partitionKey: 'k', toSequence: seq(4) }))).toEqual([]);
    expect(await collect(reader.query({ partitionKey: 'k', fromSequence: seq(6) }))).toEqual([]);
  });
});
