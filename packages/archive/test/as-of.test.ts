import { randomBytes } from 'node:crypto';
import type { RecordInput } from '@kinesis-archive/agg';
import { localAws } from '@kinesis-archive/local/vitest';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ArchivedRecord, ArchiveReader, ArchiveWriter } from '../src/index.js';
import { collect, freshTable, rec, seq } from './helpers.js';

const { clients } = localAws();
const dynamodb = clients.dynamodb;
afterAll(() => clients.destroy());

const BASE = 1_700_000_000_000;

interface Version {
  partitionKey: string;
  sequenceNumber: string;
  arrival: number;
  data: Uint8Array;
}

/** A random history: keys of 1..256 characters, arrivals out of order, duplicates, empty records, a few chunked. */
function history(seed: number): Version[] {
  const keyArb = fc.oneof(
    fc.string({ minLength: 1, maxLength: 12 }),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }),
    fc.integer({ min: 200, max: 256 }).map((n) => 'k'.repeat(n)),
  );
  const [keys] = fc.sample(fc.uniqueArray(keyArb, { minLength: 30, maxLength: 30, selector: (k) => k }), {
    numRuns: 1,
    seed,
  });
  const [plan] = fc.sample(
    fc.array(
      fc.record({
        key: fc.integer({ min: 0, max: keys!.length - 1 }),
        // arrivals within 60 s, not in sequence order
        arrival: fc.integer({ min: 0, max: 60_000 }),
        kind: fc.constantFrom('data', 'data', 'data', 'data', 'empty', 'duplicate'),
      }),
      { minLength: 200, maxLength: 200 },
    ),
    { numRuns: 1, seed: seed + 1 },
  );
  const versions: Version[] = [];
  let chunked = 0;
  plan!.forEach((p, i) => {
    const raw = keys![p.key]!;
    // not a reserved key (those are quarantined, not archived)
    const partitionKey = raw.startsWith('\u0000') ? `x${raw.slice(1)}` : raw;
    if (p.kind === 'duplicate' && versions.length > 0) {
      versions.push({ ...versions[versions.length - 1]! });
      return;
    }
    const big = p.kind === 'data' && chunked < 3 && i % 50 === 7;
    if (big) chunked++;
    versions.push({
      partitionKey,
      sequenceNumber: seq(i),
      arrival: BASE + p.arrival,
      data: p.kind === 'empty' ? new Uint8Array(0) : big ? randomBytes(400_000) : Buffer.from(`v${i}`),
    });
  });
  return versions;
}

/** The model: for each key, its newest version (arrival, then position) at or before `time`. */
function model(versions: Version[], time: number, tombstones: boolean): Map<string, Version> {
  const best = new Map<string, Version>();
  for (const v of versions) {
    if (v.arrival > time) continue;
    const b = best.get(v.partitionKey);
    if (!b || v.arrival > b.arrival || (v.arrival === b.arrival && v.sequenceNumber > b.sequenceNumber)) {
      best.set(v.partitionKey, v);
    }
  }
  if (tombstones) for (const [k, v] of best) if (v.data.byteLength === 0) best.delete(k);
  return best;
}

const show = (r: { partitionKey: string; sequenceNumber: string; data: Uint8Array }) =>
  `${r.partitionKey}|${r.sequenceNumber}|${Buffer.from(r.data).toString('hex').slice(0, 16)}|${r.data.byteLength}`;
const sorted = (xs: string[]) => [...xs].sort();

describe('asOf against a model over a random history', () => {
  let reader: ArchiveReader;
  let versions: Version[];
  beforeAll(async () => {
    versions = history(2026);
    const tableName = await freshTable(dynamodb, 'ALL');
    const writer = new ArchiveWriter({ dynamodb, tableName, mode: 'ALL' });
    const inputs: RecordInput[] = versions.map((v) => ({
      ...rec(v.partitionKey, v.sequenceNumber, v.data),
      approximateArrivalTimestamp: new Date(v.arrival),
    }));
    const result = await writer.write(inputs);
    expect(result.failed).toEqual([]);
    expect(result.quarantined).toEqual([]);
    reader = new ArchiveReader({ dynamodb, tableName, mode: 'ALL', consistentRead: true });
  });

  it('scan form, parallel segments and one-key form agree with the model at 20 times', async () => {
    const arrivals = versions.map((v) => v.arrival);
    const [picks] = fc.sample(
      fc.array(
        fc.oneof(
          fc.constantFrom(...arrivals), // exactly at an arrival: "at or before" includes it
          fc.integer({ min: Math.min(...arrivals) - 10, max: Math.max(...arrivals) + 10 }),
        ),
        { minLength: 20, maxLength: 20 },
      ),
      { numRuns: 1, seed: 99 },
    );
    const keys = [...new Set(versions.map((v) => v.partitionKey))];
    for (const [i, time] of picks!.entries()) {
      const tombstones = i % 2 === 0;
      const expected = sorted([...model(versions, time, tombstones).values()].map(show));
      const got = await collect(reader.asOf(new Date(time), { tombstones }));
      expect(sorted(got.map(show))).toEqual(expected);
      // each key at most once
      expect(new Set(got.map((r) => r.partitionKey)).size).toBe(got.length);
      if (i % 5 === 0) {
        const parts: ArchivedRecord[] = [];
        for (let segment = 0; segment < 3; segment++) {
          parts.push(...(await collect(reader.asOf(time, { tombstones, segment, totalSegments: 3 }))));
        }
        expect(sorted(parts.map(show))).toEqual(expected);
      }
      for (const partitionKey of keys.slice(i, i + 4)) {
        const one = await collect(reader.asOf(time, { tombstones, partitionKey }));
        const want = model(versions, time, tombstones).get(partitionKey);
        expect(one.map(show)).toEqual(want ? [show(want)] : []);
      }
    }
  });
});

describe('asOf and deletions', () => {
  it('a tombstone marker written by an ALL writer with tombstones deletes the key as of its time', async () => {
    const tableName = await freshTable(dynamodb, 'ALL');
    const writer = new ArchiveWriter({ dynamodb, tableName, mode: 'ALL', tombstones: true });
    const at = (pk: string, n: number, ms: number, data: string) => ({
      ...rec(pk, seq(n), data),
      approximateArrivalTimestamp: new Date(BASE + ms),
    });
    const result = await writer.write([
      at('k', 1, 1000, 'one'),
      at('k', 2, 2000, ''),
      at('k', 3, 3000, 'three'),
    ]);
    expect(result).toMatchObject({ written: 2, tombstoned: 1 });
    const reader = new ArchiveReader({ dynamodb, tableName, mode: 'ALL', consistentRead: true });
    const state = async (ms: number) =>
      (await collect(reader.asOf(BASE + ms))).map((r) => Buffer.from(r.data).toString());
    expect(await state(999)).toEqual([]);
    expect(await state(1000)).toEqual(['one']);
    expect(await state(2500)).toEqual([]);
    expect(await state(3000)).toEqual(['three']);
    // reads hide the marker unless asked
    expect((await collect(reader.query({ partitionKey: 'k' }))).map((r) => r.sequenceNumber)).toEqual([
      seq(1),
      seq(3),
    ]);
    const all = await collect(reader.query({ partitionKey: 'k', includeTombstones: true }));
    expect(all.map((r) => r.tombstone ?? false)).toEqual([false, true, false]);
  });

  it('needs an ALL archive and a valid time', async () => {
    const latest = new ArchiveReader({ dynamodb, tableName: 'some-table', mode: 'LATEST' });
    await expect(collect(latest.asOf(Date.now()))).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    const all = new ArchiveReader({ dynamodb, tableName: 'some-table', mode: 'ALL' });
    await expect(collect(all.asOf(new Date('nope')))).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(collect(all.asOf(Date.now(), { partitionKey: '' }))).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
  });
});
