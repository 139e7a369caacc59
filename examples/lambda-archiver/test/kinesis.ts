import {
  type _Record,
  AddTagsToStreamCommand,
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';

/** Creates a stream with `shards` shards (and tags) and waits until it is ACTIVE. Returns its ARN. */
export async function createStream(
  kinesis: KinesisClient,
  streamName: string,
  shards: number,
  tags?: Record<string, string>,
): Promise<string> {
  await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shards }));
  for (let i = 0; i < 200; i++) {
    const { StreamDescriptionSummary: s } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: streamName }),
    );
    if (s?.StreamStatus === 'ACTIVE') {
      if (tags) await kinesis.send(new AddTagsToStreamCommand({ StreamName: streamName, Tags: tags }));
      return s.StreamARN!;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`stream ${streamName} did not become ACTIVE`);
}

/** Every record of every shard, from TRIM_HORIZON, grouped by shard. */
export async function readStream(
  kinesis: KinesisClient,
  streamName: string,
): Promise<{ shardId: string; records: _Record[] }[]> {
  const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  const out: { shardId: string; records: _Record[] }[] = [];
  for (const shard of Shards ?? []) {
    const shardId = shard.ShardId!;
    const records: _Record[] = [];
    let { ShardIterator: iterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    while (iterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      records.push(...(page.Records ?? []));
      if (!page.Records?.length || page.MillisBehindLatest === 0) break;
      iterator = page.NextShardIterator;
    }
    out.push({ shardId, records });
  }
  return out;
}
