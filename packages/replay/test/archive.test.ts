import { ArchiveReader, ArchiveWriter, createArchiveTable } from '@kinesis-archive/archive';
import { uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isArchiveReader, type ReplayRecord, replay } from '../src/index.js';
import { createStream, expectSameContent, memoryStore, readStream } from './helpers.js';

const { clients } = localAws();
const { kinesis, dynamodb } = clients;
afterAll(() => clients.destroy());

/** 240 records over 24 keys; sequence numbers grow in length (55 -> 57 digits) to catch string comparison. */
function archiveInput(): (ReplayRecord & { sequenceNumber: string; subSequenceNumber: number })[] {
  const out: (ReplayRecord & { sequenceNumber: string; subSequenceNumber: number })[] = [];
  for (let i = 0; i < 240; i++) {
    const digits = i < 80 ? 55 : i < 160 ? 56 : 57;
    const sequenceNumber = `4${String(i).padStart(digits - 1, '0')}`;
    const data = Buffer.alloc(40 + (i % 7));
    for (let j = 0; j < data.length; j++) data[j] = (i * 13 + j) & 0xff;
    out.push({ partitionKey: `user-${i % 24}`, data, sequenceNumber, subSequenceNumber: i % 3 });
  }
  return out;
}

async function archive(mode: 'ALL' | 'LATEST') {
  const tableName = uniqueName(`replay-${mode.toLowerCase()}`);
  await createArchiveTable(dynamodb, { tableName, mode });
  const input = archiveInput();
  // Deliver out of order (reversed halves): the archive, not the delivery, decides the replay order.
  const delivery = [...input.slice(120).reverse(), ...input.slice(0, 120).reverse()];
  const writer = new ArchiveWriter({ dynamodb, tableName, mode });
  const written = await writer.write(
    delivery.map((r) => ({
      ...r,
      data: r.data as Uint8Array,
      aggregated: false,
      shardId: 'shardId-000000000001',
    })),
  );
  expect(written.failed).toEqual([]);
  return { reader: new ArchiveReader({ dynamodb, tableName, mode }), input };
}

describe('replay of an archive (ArchiveReader source)', () => {
  let all: Awaited<ReturnType<typeof archive>>;
  let latest: Awaited<ReturnType<typeof archive>>;
  beforeAll(async () => {
    all = await archive('ALL');
    latest = await archive('LATEST');
  });

  it('recognises an ArchiveReader', () => {
    expect(isArchiveReader(all.reader)).toBe(true);
    expect(isArchiveReader([])).toBe(false);
  });

  it('ALL: replays every key history in archive order, byte-exact', async () => {
    const streamName = await createStream(kinesis, 2);
    const result = await replay({ source: all.reader, kinesis, streamName });
    expect(result).toMatchObject({ ok: true, read: 240, sent: 240 });
    expectSameContent(all.input, await readStream(kinesis, streamName));
  });

  it('ALL with aggregate: true deaggregates to exactly the archive', async () => {
    const streamName = await createStream(kinesis, 2);
    const result = await replay({ source: all.reader, kinesis, streamName, aggregate: true });
    expect(result.ok).toBe(true);
    expect(result.kinesisRecords).toBeLessThanOrEqual(4);
    expectSameContent(all.input, await readStream(kinesis, streamName));
  });

  it('LATEST: replays the final state, one record per key', async () => {
    const streamName = await createStream(kinesis, 2);
    const result = await replay({ source: latest.reader, kinesis, streamName });
    expect(result).toMatchObject({ ok: true, read: 24, sent: 24 });
    const finalState = new Map<string, ReplayRecord>();
    for (const r of latest.input) finalState.set(r.partitionKey, r); // input is in position order
    expectSameContent([...finalState.values()], await readStream(kinesis, streamName));
  });

  it('segments of a scan together cover the archive exactly once', async () => {
    const streamName = await createStream(kinesis, 2);
    const results = await Promise.all(
      [0, 1, 2].map((segment) =>
        replay({ source: all.reader, kinesis, streamName, segment, totalSegments: 3, rateLimit: false }),
      ),
    );
    expect(results.reduce((n, r) => n + r.sent, 0)).toBe(240);
    expect(results.every((r) => r.ok && r.sent < 240)).toBe(true);
    expectSameContent(all.input, await readStream(kinesis, streamName));
  });

  it('query replays one key history within a sequence range', async () => {
    const streamName = await createStream(kinesis, 1);
    const key = all.input.filter((r) => r.partitionKey === 'user-5');
    const fromSequence = key[2]!.sequenceNumber;
    const result = await replay({
      source: all.reader,
      query: { partitionKey: 'user-5', fromSequence },
      kinesis,
      streamName,
    });
    expect(result.ok).toBe(true);
    expectSameContent(key.slice(2), await readStream(kinesis, streamName));
  });

  it('keys replays the history of each key of a set, one cursor per key', async () => {
    const streamName = await createStream(kinesis, 1);
    const checkpoint = memoryStore();
    const result = await replay({
      source: all.reader,
      keys: ['user-3', 'user-7', 'user-3'],
      kinesis,
      streamName,
      checkpoint,
    });
    expect(result).toMatchObject({ ok: true, read: 20, sent: 20 });
    expect(Object.keys(checkpoint.saved.at(-1)!.units).sort()).toEqual(['query:user-3', 'query:user-7']);
    expectSameContent(
      all.input.filter((r) => r.partitionKey === 'user-3' || r.partitionKey === 'user-7'),
      await readStream(kinesis, streamName),
    );
  });

  it('keyPrefix replays only the keys with that prefix, over every segment', async () => {
    const streamName = await createStream(kinesis, 2);
    const result = await replay({
      source: all.reader,
      keyPrefix: 'user-1',
      totalSegments: 3,
      kinesis,
      streamName,
    });
    const expected = all.input.filter((r) => r.partitionKey.startsWith('user-1'));
    expect(expected).toHaveLength(110);
    expect(result).toMatchObject({ ok: true, read: 110, sent: 110 });
    expectSameContent(expected, await readStream(kinesis, streamName));
  });

  it('rejects keys with a plain iterable, with query, or an empty key', async () => {
    const streamName = 'unused';
    await expect(replay({ source: [], keys: ['a'], kinesis, streamName })).rejects.toThrow(/keys/);
    await expect(
      replay({ source: all.reader, keys: ['a'], query: { partitionKey: 'a' }, kinesis, streamName }),
    ).rejects.toThrow(/not with query/);
    await expect(replay({ source: all.reader, keys: [''], kinesis, streamName })).rejects.toThrow(
      /non-empty/,
    );
    await expect(replay({ source: all.reader, keyPrefix: '', kinesis, streamName })).rejects.toThrow(
      /keyPrefix/,
    );
  });
});
