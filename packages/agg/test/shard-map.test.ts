import { CreateStreamCommand, ListShardsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { type LocalAws, startLocalAws } from '@kinesis-archive/local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  aggregate,
  hashKeyOf,
  InvalidOptionError,
  MAX_HASH_KEY,
  ShardMap,
  toPutRecordsEntry,
} from '../src/index.js';

const Q = (MAX_HASH_KEY + 1n) / 4n;
const range = (i: number) => ({
  StartingHashKey: (Q * BigInt(i)).toString(),
  EndingHashKey: (Q * BigInt(i + 1) - 1n).toString(),
});

describe('ShardMap (unit)', () => {
  const listShardsOutput = {
    Shards: [
      { ShardId: 'shardId-000000000002', HashKeyRange: range(2) },
      {
        ShardId: 'shardId-000000000000',
        HashKeyRange: { StartingHashKey: '0', EndingHashKey: range(1).EndingHashKey },
      },
      {
        ShardId: 'shardId-000000000001-closed',
        HashKeyRange: range(0),
        SequenceNumberRange: { StartingSequenceNumber: '1', EndingSequenceNumber: '2' },
      },
      { ShardId: 'shardId-000000000003', HashKeyRange: range(3) },
    ],
  };

  it('keeps open shards, sorted, and finds the owner of a hash key', () => {
    const map = ShardMap.fromListShards(listShardsOutput);
    expect(map.size).toBe(3);
    expect(map.shards.map((s) => s.shardId)).toEqual([
      'shardId-000000000000',
      'shardId-000000000002',
      'shardId-000000000003',
    ]);
    expect(map.shardFor(0n)?.shardId).toBe('shardId-000000000000');
    expect(map.shardFor(Q * 2n - 1n)?.shardId).toBe('shardId-000000000000');
    expect(map.shardFor((Q * 2n).toString())?.shardId).toBe('shardId-000000000002');
    expect(map.shardFor(MAX_HASH_KEY)?.shardId).toBe('shardId-000000000003');
    expect(map.shardFor(MAX_HASH_KEY + 1n)).toBeUndefined();
    expect(map.shardFor('not a number')).toBeUndefined();
    expect(map.shardForKey('abc')?.shardId).toBe(map.shardFor(hashKeyOf('abc'))?.shardId);
    expect(new ShardMap(listShardsOutput.Shards).shards).toEqual(map.shards);
  });

  it('a gap in the map gives undefined', () => {
    const map = new ShardMap([{ ShardId: 's', HashKeyRange: range(1) }]);
    expect(map.shardFor(0n)).toBeUndefined();
    expect(map.shardFor(Q)?.shardId).toBe('s');
  });

  it('rejects malformed shards; refresh needs a loaded map', async () => {
    expect(
      () => new ShardMap([{ ShardId: 's', HashKeyRange: { StartingHashKey: '5', EndingHashKey: '1' } }]),
    ).toThrow(InvalidOptionError);
    await expect(new ShardMap([]).refresh()).rejects.toThrow(InvalidOptionError);
  });

  it('load paginates with NextToken alone after the first page', async () => {
    const inputs: unknown[] = [];
    const pages = [
      { Shards: [{ ShardId: 'a', HashKeyRange: range(0) }], NextToken: 't1' },
      { Shards: [{ ShardId: 'b', HashKeyRange: range(1) }], NextToken: 't2' },
      {
        Shards: [
          { ShardId: 'c', HashKeyRange: range(2) },
          { ShardId: 'd', HashKeyRange: range(3) },
        ],
      },
    ];
    let call = 0;
    const client = {
      async send(command: object) {
        expect(command).toBeInstanceOf(ListShardsCommand);
        inputs.push((command as ListShardsCommand).input);
        return pages[call++ % pages.length];
      },
    };
    const map = await ShardMap.load(client, { streamARN: 'arn:aws:kinesis:us-east-1:1:stream/s' });
    expect(map.shards.map((s) => s.shardId)).toEqual(['a', 'b', 'c', 'd']);
    expect(inputs).toEqual([
      { StreamARN: 'arn:aws:kinesis:us-east-1:1:stream/s' },
      { NextToken: 't1' },
      { NextToken: 't2' },
    ]);
    await map.refresh();
    expect(inputs).toHaveLength(6);
  });
});

// Against kinesis-mock (real ListShards, PutRecords routing) through @kinesis-archive/local.
let local: LocalAws | undefined;

describe('ShardMap.load against kinesis-mock', () => {
  beforeAll(async () => {
    local = await startLocalAws({ kinesis: true, dynamodb: false });
  }, 60_000);
  afterAll(async () => {
    await local?.stop();
  });

  it('lists the open shards; per-shard aggregates land in their shard', async () => {
    const client = local!.clients.kinesis;
    const streamName = `agg-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 4 }));
    let map: ShardMap | undefined;
    for (let i = 0; i < 50 && (map?.size ?? 0) < 4; i++) {
      try {
        map = await ShardMap.load(client, { streamName });
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(map!.size).toBe(4);
    expect(map!.shards[0]!.startingHashKey).toBe(0n);
    expect(map!.shards[3]!.endingHashKey).toBe(MAX_HASH_KEY);
    const records = Array.from({ length: 200 }, (_, i) => ({
      partitionKey: `user-${i}`,
      data: `event ${i}`,
    }));
    const aggregates = aggregate(records, { shardMap: map!, maxBytes: 2000 });
    expect(aggregates.length).toBeGreaterThanOrEqual(4);
    const out = await client.send(
      new PutRecordsCommand({ StreamName: streamName, Records: aggregates.map(toPutRecordsEntry) }),
    );
    expect(out.FailedRecordCount ?? 0).toBe(0);
    out.Records!.forEach((r, i) => {
      expect(r.ShardId).toBe(aggregates[i]!.shardId);
    });
    expect((await map!.refresh()).size).toBe(4);
  }, 60_000);
});
