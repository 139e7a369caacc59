import { SplitShardCommand } from '@aws-sdk/client-kinesis';
import { hashKeyOf, ShardMap } from '@kinesis-archive/agg';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryFailureJournal, type ReplayRecord, replay, unwrapEnvelope } from '../src/index.js';
import {
  createStream,
  expectSameContent,
  iterate,
  makeRecords,
  readAsKcl,
  readStream,
  settledCount,
} from './helpers.js';

const { clients } = localAws();
const kinesis = clients.kinesis;
afterAll(() => clients.destroy());

describe('replay into a fresh stream', () => {
  it('writes exactly the source: bytes, keys, per-key order', async () => {
    const streamName = await createStream(kinesis, 2);
    const records = makeRecords(600, 40, 200);
    records.push({ partitionKey: 'üñïçødé-ключ', data: new Uint8Array(0) });
    records.push({ partitionKey: 'ehk', data: Buffer.from('routed'), explicitHashKey: '1' });
    const result = await replay({ source: iterate(records), kinesis, streamName });
    expect(result).toMatchObject({
      ok: true,
      read: 602,
      sent: 602,
      kinesisRecords: 602,
      failed: [],
      aborted: false,
    });
    const back = await readStream(kinesis, streamName);
    expectSameContent(records, back);
    const ehk = back.find((r) => r.partitionKey === 'ehk')!;
    expect(ehk.shardId).toBe('shardId-000000000000');
  });

  it('aggregate: true sends few Kinesis records, per shard, and deaggregates to the source', async () => {
    const streamName = await createStream(kinesis, 3);
    const records = makeRecords(1_500, 100, 300);
    const result = await replay({ source: records, kinesis, streamName, aggregate: true });
    expect(result.ok).toBe(true);
    expect(result.sent).toBe(1_500);
    expect(result.kinesisRecords).toBeLessThan(15);
    const back = await readStream(kinesis, streamName);
    expectSameContent(records, back);
    expect(back.every((r) => r.aggregated)).toBe(true);
  });

  it('aggregate: true completes when the records held for aggregation fill the read window', async () => {
    // 4 shards, a window of 60 records: aggregates never fill, so the held records alone fill the window; the
    // unit must send them rather than wait for room that only their sending can make
    const streamName = await createStream(kinesis, 4);
    const records = makeRecords(600, 120, 100);
    const result = await replay({
      source: iterate(records),
      kinesis,
      streamName,
      aggregate: true,
      aggregateMaxAgeMs: 3_600_000,
      maxUnsettledRecords: 60,
    });
    expect(result).toMatchObject({ ok: true, read: 600, sent: 600 });
    expect(result.kinesisRecords).toBeLessThan(600);
    expectSameContent(records, await readStream(kinesis, streamName));
  }, 60_000);

  it('aggregate: true stays exact when the caller refreshes the shard map it passed, mid-replay', async () => {
    const streamName = await createStream(kinesis, 1);
    const shardMap = await ShardMap.load(kinesis, { streamName });
    const records = makeRecords(400, 20, 100);
    async function* source(): AsyncIterable<ReplayRecord> {
      for (const [i, record] of records.entries()) {
        if (i === 200) {
          // a reshard, and the caller's own refresh of the map it shares with the replay
          await kinesis.send(
            new SplitShardCommand({
              StreamName: streamName,
              ShardToSplit: 'shardId-000000000000',
              NewStartingHashKey: (2n ** 127n).toString(),
            }),
          );
          await shardMap.refresh();
          expect(shardMap.size).toBe(2);
        }
        yield record;
      }
    }
    const result = await replay({ source: source(), kinesis, streamName, aggregate: true, shardMap });
    expect(result.failed).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.sent).toBe(400);
    const back = await readStream(kinesis, streamName);
    expectSameContent(records, back);
    // every record in a child shard belongs to it: the KCL keeps them all
    const inChildren = back.filter((r) => r.shardId !== 'shardId-000000000000');
    expect(inChildren.length).toBeGreaterThan(0);
    for (const r of inChildren) expect(shardMap.shardForKey(r.partitionKey)?.shardId).toBe(r.shardId);
  });

  it('aggregate: true sends a sparse shard held record after aggregateMaxAgeMs, so the checkpoint moves on', async () => {
    const streamName = await createStream(kinesis, 2);
    // a key of each half of the hash key space (the two shards)
    const keyIn = (upper: boolean) => {
      for (let i = 0; ; i++) if (hashKeyOf(`k-${i}`) >= 2n ** 127n === upper) return `k-${i}`;
    };
    const records: ReplayRecord[] = [
      { partitionKey: keyIn(true), data: Buffer.from('sparse'), sequenceNumber: '1' },
      ...Array.from({ length: 60 }, (_, i) => ({
        partitionKey: keyIn(false),
        data: Buffer.from(`busy-${i}`),
        sequenceNumber: String(2 + i),
      })),
    ];
    const saved: number[] = [];
    let savedBeforeEnd = 0;
    async function* source(): AsyncIterable<ReplayRecord> {
      for (const [i, record] of records.entries()) {
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 40));
        yield record;
      }
      // the source is read to its end: nothing is flushed for being the last yet
      savedBeforeEnd = Math.max(0, ...saved);
    }
    const result = await replay({
      source: source(),
      kinesis,
      streamName,
      aggregate: true,
      aggregateMaxAgeMs: 50,
      checkpoint: { load: () => undefined, save: (c) => void saved.push(settledCount(c)) },
    });
    expect(result).toMatchObject({ ok: true, sent: 61, failed: [] });
    // the sparse shard's record went out while the source was still read, and the checkpoint passed it
    expect(savedBeforeEnd).toBeGreaterThan(1);
    expectSameContent(records, await readStream(kinesis, streamName));
  });

  it('aggregate: true across a split of the target: a consumer that drops out-of-range sub-records (as the KCL does) still gets every record', async () => {
    const streamName = await createStream(kinesis, 1);
    const records = makeRecords(300, 30, 50);
    async function* source(): AsyncIterable<ReplayRecord> {
      for (const [i, record] of records.entries()) {
        if (i === 100) {
          await kinesis.send(
            new SplitShardCommand({
              StreamName: streamName,
              ShardToSplit: 'shardId-000000000000',
              NewStartingHashKey: (2n ** 127n).toString(),
            }),
          );
        }
        if (i % 20 === 19) await new Promise((r) => setTimeout(r, 30));
        yield record;
      }
    }
    const result = await replay({
      source: source(),
      kinesis,
      streamName,
      aggregate: true,
      aggregateMaxAgeMs: 20,
    });
    expect(result).toMatchObject({ ok: true, sent: 300, failed: [], unsent: [] });
    // aggregates built for the parent landed in a child: their records were sent again, on their own
    expect(result.resent).toBeGreaterThan(0);
    const kept = await readAsKcl(kinesis, streamName);
    const hex = (data: Uint8Array | string) => Buffer.from(data as Uint8Array).toString('hex');
    const got = new Set(kept.map((r) => r.data.toString('hex')));
    const missing = records.filter((r) => !got.has(hex(r.data)));
    expect(missing).toEqual([]);
    // duplicates only of records that were sent again
    expect(kept.length - records.length).toBeLessThanOrEqual(result.resent);
  });

  it('aggregate: true with a stale map sends the keys it has no shard for un-aggregated, never mixed', async () => {
    const streamName = await createStream(kinesis, 3);
    const full = await ShardMap.load(kinesis, { streamName });
    // a static map that lists only the middle shard (as from a listing that left the others out): the keys it has
    // no shard for belong to two shards
    const middle = full.shards[1];
    const stale = new ShardMap([
      {
        ShardId: middle!.shardId,
        HashKeyRange: {
          StartingHashKey: middle!.startingHashKey.toString(),
          EndingHashKey: middle!.endingHashKey.toString(),
        },
      },
    ]);
    const records = makeRecords(300, 30, 50);
    const result = await replay({ source: records, kinesis, streamName, aggregate: true, shardMap: stale });
    expect(result).toMatchObject({ ok: true, sent: 300, failed: [] });
    const back = await readStream(kinesis, streamName);
    expectSameContent(records, back);
    // every user record sits in the shard that owns its key: a KCL consumer keeps them all
    for (const r of back) expect(full.shardForKey(r.partitionKey)?.shardId).toBe(r.shardId);
    const unmapped = back.filter((r) => stale.shardForKey(r.partitionKey) === undefined);
    expect(unmapped.length).toBeGreaterThan(0);
    expect(unmapped.every((r) => !r.aggregated)).toBe(true);
    expect(back.filter((r) => r.shardId === middle!.shardId).every((r) => r.aggregated)).toBe(true);
  });

  it('rejects an aggregateMaxAgeMs that is not a number >= 0', async () => {
    await expect(
      replay({ source: [], kinesis, streamName: 'x', aggregate: true, aggregateMaxAgeMs: -1 }),
    ).rejects.toMatchObject({ code: 'INVALID_REPLAY_OPTION' });
  });

  it('reports invalid records in failed, with typed errors, and sends the rest', async () => {
    const streamName = await createStream(kinesis, 1);
    const good = makeRecords(20, 5);
    const bad: ReplayRecord[] = [
      { partitionKey: '', data: Buffer.from('x') },
      { partitionKey: 'k'.repeat(257), data: Buffer.from('x') },
      { partitionKey: 'big', data: Buffer.alloc(1_048_576) },
      { partitionKey: 'ehk', data: Buffer.from('x'), explicitHashKey: '-1' },
      { partitionKey: 'nodata', data: 42 as unknown as Uint8Array },
    ];
    const journal = new MemoryFailureJournal();
    const result = await replay({
      source: [...good.slice(0, 10), ...bad, ...good.slice(10)],
      kinesis,
      streamName,
      journal,
    });
    expect(result.ok).toBe(false);
    expect(result.sent).toBe(20);
    expect(result.journaled).toBe(5);
    expect(result.failed.map((f) => f.error.code)).toEqual([
      'INVALID_PARTITION_KEY',
      'INVALID_PARTITION_KEY',
      'RECORD_TOO_LARGE',
      'INVALID_EXPLICIT_HASH_KEY',
      'INVALID_RECORD',
    ]);
    expect(result.failed.map((f) => f.record)).toEqual(bad.map((b) => ({ partitionKey: b.partitionKey })));
    // the journal holds each one's payload, byte-exact (none for data that is not bytes), and where it was read
    const entries = journal.entries;
    expect(entries.map((e) => Buffer.from(e.record.data, 'base64').length)).toEqual([1, 1, 1_048_576, 1, 0]);
    expect(entries.map((e) => (e.source as { index: number }).index)).toEqual([10, 11, 12, 13, 14]);
    expectSameContent(good, await readStream(kinesis, streamName));
  });

  it('throwOnFailure rejects with ReplayFailedError carrying the result', async () => {
    const streamName = await createStream(kinesis, 1);
    const err = await replay({
      source: [{ partitionKey: '', data: Buffer.from('x') }, ...makeRecords(3, 3)],
      kinesis,
      streamName,
      throwOnFailure: true,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'REPLAY_FAILED', name: 'ReplayFailedError' });
    expect((err as { result: { sent: number; failed: unknown[] } }).result).toMatchObject({ sent: 3 });
    expect((err as { result: { failed: unknown[] } }).result.failed).toHaveLength(1);
  });

  it('dryRun reads and counts, sends nothing', async () => {
    const streamName = await createStream(kinesis, 1);
    const result = await replay({
      source: [...makeRecords(50, 5), { partitionKey: '', data: new Uint8Array(1) }],
      kinesis,
      streamName,
      dryRun: true,
    });
    expect(result).toMatchObject({ read: 51, sent: 0, kinesisRecords: 0 });
    expect(result.failed).toHaveLength(1);
    expect(await readStream(kinesis, streamName)).toHaveLength(0);
  });

  it('envelope: true wraps metadata and the exact bytes', async () => {
    const streamName = await createStream(kinesis, 1);
    const at = new Date('2024-05-01T12:00:00.123Z');
    const data = Buffer.from([0, 255, 128, 10, 13]);
    const source: ReplayRecord[] = [
      {
        partitionKey: 'k',
        data,
        sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
        subSequenceNumber: 3,
        shardId: 'shardId-000000000007',
        approximateArrivalTimestamp: at,
      },
    ];
    const result = await replay({ source, kinesis, streamName, envelope: true });
    expect(result.ok).toBe(true);
    const [back] = await readStream(kinesis, streamName);
    expect(back!.partitionKey).toBe('k');
    const { envelope, data: inner } = unwrapEnvelope(back!.data);
    expect(Buffer.from(inner).equals(data)).toBe(true);
    expect(envelope).toMatchObject({
      sequenceNumber: source[0]!.sequenceNumber,
      subSequenceNumber: 3,
      shardId: 'shardId-000000000007',
      approximateArrivalTimestamp: at.toISOString(),
    });
  });

  it('reports progress at a bounded rate, with an eta when the total is known', async () => {
    const streamName = await createStream(kinesis, 1);
    const calls: { sent: number; eta?: number | undefined; t: number }[] = [];
    await replay({
      source: iterate(makeRecords(400, 20)),
      kinesis,
      streamName,
      total: 400,
      progressIntervalMs: 100,
      writer: { maxBatchRecords: 50, concurrency: 1 },
      onProgress: (p) => calls.push({ sent: p.sent, eta: p.eta, t: Date.now() }),
    });
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.at(-1)!.sent).toBe(400);
    for (let i = 2; i < calls.length - 1; i++)
      expect(calls[i]!.t - calls[i - 1]!.t).toBeGreaterThanOrEqual(99);
    expect(calls.at(-1)!.eta).toBe(0);
  });

  it('stops on a source error after the requests in flight are done, with the result and the checkpoint saved', async () => {
    const streamName = await createStream(kinesis, 1);
    const saved: number[] = [];
    async function* broken() {
      yield* makeRecords(5, 5);
      throw new Error('source broke');
    }
    const result = await replay({
      source: broken(),
      kinesis,
      streamName,
      checkpoint: { load: () => undefined, save: (c) => void saved.push(settledCount(c)) },
    });
    expect(result.ok).toBe(false);
    expect(result.stoppedBy?.message).toBe('source broke');
    expect(result.cursors.iterable?.done).toBe(false);
    expect(saved.at(-1)).toBe(result.sent);
    expect(result.sent + result.unsent.length).toBe(5);
    expect((await readStream(kinesis, streamName)).length).toBe(result.sent);
  });

  it('a throwing onProgress stops the replay and the result is still returned (finding 6)', async () => {
    const streamName = await createStream(kinesis, 1);
    const result = await replay({
      source: iterate(makeRecords(200, 20)),
      kinesis,
      streamName,
      progressIntervalMs: 0,
      onProgress: (p) => {
        if (p.sent > 0) throw new Error('progress bar broke');
      },
    });
    expect(result.ok).toBe(false);
    expect(result.stoppedBy).toMatchObject({ code: 'CALLBACK_FAILED' });
    expect(result.sent).toBeGreaterThan(0);
    expect(result.sent + result.unsent.length).toBe(result.read);
  });

  it('rejects bad options with typed errors', async () => {
    await expect(replay({ source: [], kinesis })).rejects.toMatchObject({ code: 'INVALID_REPLAY_OPTION' });
    await expect(
      replay({ source: [], kinesis, streamName: 'x', segment: 2, totalSegments: 2 }),
    ).rejects.toMatchObject({ code: 'INVALID_REPLAY_OPTION' });
  });
});

describe('abort', () => {
  it('stops sending when the signal fires after the whole source was read into the buffer', async () => {
    const streamName = await createStream(kinesis, 1);
    const records = makeRecords(300, 100, 50); // the first 100 records have distinct keys: a first request of 50
    const controller = new AbortController();
    const result = await replay({
      source: records, // 300 records: all read at once into the writer's buffer (2,000)
      kinesis,
      streamName,
      rateLimit: false,
      signal: controller.signal,
      progressIntervalMs: 0,
      writer: { maxBatchRecords: 50, concurrency: 1 },
      onProgress: (p) => {
        if (p.sent >= 50) controller.abort();
      },
    });
    expect(result.aborted).toBe(true);
    expect(result.ok).toBe(false);
    expect(result.sent).toBe(50); // the request in flight completed; nothing more was sent
    expect(await readStream(kinesis, streamName)).toHaveLength(50);
  });
});
