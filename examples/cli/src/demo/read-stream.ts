import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { deaggregate } from '@kinesis-archive/agg';
import { retry } from '@kinesis-archive/core';

/** A user record read back from a stream. */
export interface ReadBackRecord {
  partitionKey: string;
  data: Uint8Array;
}

/** What a stream holds: user records per key (in stream order), and the number of Kinesis records. */
export interface StreamContent {
  byKey: Map<string, ReadBackRecord[]>;
  userRecords: number;
  kinesisRecords: number;
  bytes: number;
}

/** Reads every shard of a stream from TRIM_HORIZON to its tip with GetRecords and deaggregates each record. */
export async function readStream(kinesis: KinesisClient, streamName: string): Promise<StreamContent> {
  const content: StreamContent = { byKey: new Map(), userRecords: 0, kinesisRecords: 0, bytes: 0 };
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
  for (const shard of shards) {
    let iterator = (
      await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shard.ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    while (iterator) {
      const current = iterator;
      const out = await retry(() =>
        kinesis.send(new GetRecordsCommand({ ShardIterator: current, Limit: 10_000 })),
      );
      for (const record of out.Records ?? []) {
        content.kinesisRecords++;
        for (const user of deaggregate(record)) {
          const list = content.byKey.get(user.partitionKey) ?? [];
          list.push({ partitionKey: user.partitionKey, data: user.data });
          content.byKey.set(user.partitionKey, list);
          content.userRecords++;
          content.bytes += user.data.byteLength;
        }
      }
      if ((out.Records ?? []).length === 0 && (out.MillisBehindLatest ?? 0) === 0) break;
      iterator = out.NextShardIterator;
    }
  }
  return content;
}
