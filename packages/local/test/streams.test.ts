import {
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  ListTagsForStreamCommand,
  PutRecordsCommand,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { uniqueName } from '../src/names.js';
import { createStream, readStream } from '../src/streams.js';
import { localAws } from '../src/vitest-setup.js';

const { clients } = localAws();
const kinesis = clients.kinesis;

/** Puts `data` (partition key = the datum) and returns the sequence numbers by shard, in put order. */
async function put(streamName: string, data: string[]): Promise<Map<string, string[]>> {
  const out = await kinesis.send(
    new PutRecordsCommand({
      StreamName: streamName,
      Records: data.map((d) => ({ Data: Buffer.from(d), PartitionKey: d })),
    }),
  );
  expect(out.FailedRecordCount).toBe(0);
  const byShard = new Map<string, string[]>();
  for (const r of out.Records ?? []) {
    byShard.set(r.ShardId ?? '', [...(byShard.get(r.ShardId ?? '') ?? []), r.SequenceNumber ?? '']);
  }
  return byShard;
}

describe('createStream', () => {
  it('creates a one-shard stream by default, ACTIVE, and returns its ARN', async () => {
    const name = uniqueName('streams');
    const arn = await createStream(kinesis, name);
    expect(arn).toMatch(new RegExp(`^arn:aws:kinesis:[^:]+:\\d+:stream/${name}$`));
    const { StreamDescriptionSummary: s } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: name }),
    );
    expect(s?.StreamStatus).toBe('ACTIVE');
    expect(s?.StreamARN).toBe(arn);
    expect(s?.OpenShardCount).toBe(1);
  });

  it('creates the asked number of shards and adds the tags', async () => {
    const name = uniqueName('streams');
    await createStream(kinesis, name, { shards: 3, tags: { team: 'a', StreamArchiveMode: 'all' } });
    const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: name }));
    expect(Shards).toHaveLength(3);
    const { Tags } = await kinesis.send(new ListTagsForStreamCommand({ StreamName: name }));
    expect(Object.fromEntries((Tags ?? []).map((t) => [t.Key, t.Value]))).toEqual({
      team: 'a',
      StreamArchiveMode: 'all',
    });
  });
});

describe('readStream', () => {
  it('returns every shard, empty ones included, each with its records in stream order', async () => {
    const name = uniqueName('streams');
    await createStream(kinesis, name, { shards: 3 });
    expect((await readStream(kinesis, name)).map((s) => s.records)).toEqual([[], [], []]);
    const data = Array.from({ length: 90 }, (_, i) => `record-${i}`);
    const written = await put(name, data);
    const shards = await readStream(kinesis, name);
    const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: name }));
    expect(shards.map((s) => s.shardId)).toEqual(Shards?.map((s) => s.ShardId));
    expect(shards.filter((s) => s.records.length > 0).length).toBeGreaterThan(1);
    for (const { shardId, records } of shards) {
      expect(records.map((r) => r.SequenceNumber)).toEqual(written.get(shardId) ?? []);
    }
    const all = shards.flatMap((s) => s.records.map((r) => Buffer.from(r.Data ?? []).toString()));
    expect(all.sort()).toEqual([...data].sort());
  });

  it('reads closed shards to their end as well as their children', async () => {
    const name = uniqueName('streams');
    await createStream(kinesis, name);
    const before = await put(name, ['a', 'b', 'c']);
    const [parent] = before.keys();
    await kinesis.send(
      new SplitShardCommand({
        StreamName: name,
        ShardToSplit: parent,
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    for (let i = 0; i < 200; i++) {
      const { StreamDescriptionSummary: s } = await kinesis.send(
        new DescribeStreamSummaryCommand({ StreamName: name }),
      );
      if (s?.StreamStatus === 'ACTIVE') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const after = await put(name, ['d', 'e', 'f', 'g']);
    expect(after.has(parent ?? '')).toBe(false);
    const shards = await readStream(kinesis, name);
    expect(shards).toHaveLength(3);
    for (const { shardId, records } of shards) {
      const want = shardId === parent ? before.get(shardId) : after.get(shardId);
      expect(records.map((r) => r.SequenceNumber)).toEqual(want ?? []);
    }
  });
});
