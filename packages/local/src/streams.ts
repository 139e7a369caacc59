import {
  type _Record,
  AddTagsToStreamCommand,
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { KinesisArchiveError } from '@kinesis-archive/core';

/** Options of {@link createStream}. */
export interface CreateStreamOptions {
  /** Number of shards. Default 1. */
  shards?: number;
  /** Tags added once the stream is ACTIVE. */
  tags?: Record<string, string>;
}

/** The records of one shard, as {@link readStream} returns them. */
export interface ShardRecords {
  /** The shard's id. */
  shardId: string;
  /** Every record of the shard, in stream order. */
  records: _Record[];
}

/**
 * Creates a Kinesis stream, waits until it is ACTIVE (up to about 10 s), adds `tags` if given, and returns the
 * stream's ARN. Meant for tests and demos against the local stand-ins (or a sandbox account).
 *
 * @throws {@link KinesisArchiveError} with code `STREAM_NOT_ACTIVE` when the stream does not become ACTIVE in time.
 *
 * @example
 * ```ts
 * const arn = await createStream(clients.kinesis, uniqueName('orders'), { shards: 2, tags: { team: 'a' } });
 * ```
 */
export async function createStream(
  kinesis: KinesisClient,
  streamName: string,
  options: CreateStreamOptions = {},
): Promise<string> {
  await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: options.shards ?? 1 }));
  for (let i = 0; i < 200; i++) {
    const { StreamDescriptionSummary: s } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: streamName }),
    );
    if (s?.StreamStatus === 'ACTIVE' && s.StreamARN) {
      if (options.tags && Object.keys(options.tags).length > 0) {
        await kinesis.send(new AddTagsToStreamCommand({ StreamName: streamName, Tags: options.tags }));
      }
      return s.StreamARN;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new KinesisArchiveError('STREAM_NOT_ACTIVE', `stream ${streamName} did not become ACTIVE`);
}

/** Every shard of a stream (ListShards, all pages). */
async function listShards(kinesis: KinesisClient, streamName: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    const page = await kinesis.send(
      nextToken
        ? new ListShardsCommand({ NextToken: nextToken })
        : new ListShardsCommand({ StreamName: streamName }),
    );
    shards.push(...(page.Shards ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return shards;
}

/**
 * Reads back every record of every shard of a stream (all shards from ListShards, open and closed), each shard
 * from TRIM_HORIZON to its end: reading a shard stops at its tip (`MillisBehindLatest` 0), at the first empty
 * page, or when the shard is closed and fully read. Records are raw Kinesis records (deaggregate KPL aggregates
 * yourself). Meant for asserting what a test wrote, on small streams.
 *
 * @example
 * ```ts
 * const shards = await readStream(clients.kinesis, streamName);
 * const all = shards.flatMap((s) => s.records);
 * ```
 */
export async function readStream(kinesis: KinesisClient, streamName: string): Promise<ShardRecords[]> {
  const out: ShardRecords[] = [];
  for (const shard of await listShards(kinesis, streamName)) {
    const shardId = shard.ShardId ?? '';
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
