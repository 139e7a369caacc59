import { describe, expect, it } from 'vitest';
import { aggregate, deaggregate, type UserRecord } from '../src/index.js';
import { type TheirUserRecord, theirs } from './helpers.js';

function sample(n: number): UserRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    partitionKey: `pk-${i % 13}-${'x'.repeat(i % 5)}`,
    data: Buffer.from(`payload ${i} ${'y'.repeat((i * 37) % 3000)}`),
    explicitHashKey: i % 4 === 0 ? String(BigInt(i) * 12345678901234567890n) : undefined,
  }));
}

function theirAggregate(
  records: UserRecord[],
): Promise<{ data: Buffer; partitionKey: string; explicitHashKey?: string }[]> {
  const copies = records.map((r) => ({
    partitionKey: r.partitionKey,
    data: Buffer.from(r.data),
    ...(r.explicitHashKey ? { explicitHashKey: r.explicitHashKey } : {}),
  }));
  return new Promise((resolve, reject) => {
    const out: { data: Buffer; partitionKey: string; explicitHashKey?: string }[] = [];
    theirs.aggregate(
      copies,
      (rec, cb) => {
        out.push({ ...rec });
        cb();
      },
      () => resolve(out),
      reject,
    );
  });
}

function theirDeaggregate(data: Uint8Array, partitionKey: string): TheirUserRecord[] {
  let result: TheirUserRecord[] = [];
  theirs.deaggregateSync(
    { data: Buffer.from(data).toString('base64'), partitionKey, sequenceNumber: '1' },
    true,
    (err, recs) => {
      if (err) throw err;
      result = recs ?? [];
    },
  );
  return result;
}

describe('interop with aws-kinesis-agg 4.2.8', () => {
  it('aws-kinesis-agg aggregates -> we deaggregate', async () => {
    const input = sample(3000);
    const encoded = await theirAggregate(input);
    expect(encoded.length).toBeGreaterThan(1);
    const back = encoded.flatMap((e) =>
      deaggregate(
        { data: e.data, partitionKey: e.partitionKey, sequenceNumber: '1' },
        { onInvalid: 'throw-corrupt' },
      ),
    );
    expect(back.map((r) => [r.partitionKey, r.explicitHashKey, Buffer.from(r.data).toString()])).toEqual(
      input.map((r) => [r.partitionKey, r.explicitHashKey, Buffer.from(r.data).toString()]),
    );
  });

  it('we aggregate -> aws-kinesis-agg deaggregates (checksums verified)', () => {
    const input = sample(3000);
    const ours = aggregate(input, { mixShards: true, maxBytes: 100_000 });
    expect(ours.length).toBeGreaterThan(1);
    const back = ours.flatMap((r) => theirDeaggregate(r.data, r.partitionKey));
    expect(back.map((r) => [r.partitionKey, Buffer.from(r.data, 'base64').toString()])).toEqual(
      input.map((r) => [r.partitionKey, Buffer.from(r.data).toString()]),
    );
    // aws-kinesis-agg reports table entry 0 for records without an EHK (its bug); check the ones that have one
    back.forEach((r, i) => {
      if (input[i]!.explicitHashKey) expect(r.explicitPartitionKey).toBe(input[i]!.explicitHashKey);
    });
  });
});
