import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';

/** Puts `count` records `key-<i % keys>` / `record-<offset + i>`; returns their sequence numbers by shard. */
export async function putRecords(
  kinesis: KinesisClient,
  streamName: string,
  count: number,
  options: { keys?: number; offset?: number } = {},
): Promise<Map<string, string[]>> {
  const keys = options.keys ?? 50;
  const offset = options.offset ?? 0;
  const byShard = new Map<string, string[]>();
  for (let start = 0; start < count; start += 500) {
    const entries = [];
    for (let i = start; i < Math.min(count, start + 500); i++) {
      entries.push({ PartitionKey: `key-${(offset + i) % keys}`, Data: Buffer.from(`record-${offset + i}`) });
    }
    const out = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: entries }));
    if (out.FailedRecordCount) throw new Error(`PutRecords failed ${out.FailedRecordCount} records`);
    for (const r of out.Records ?? []) {
      const list = byShard.get(r.ShardId ?? '') ?? [];
      list.push(r.SequenceNumber ?? '');
      byShard.set(r.ShardId ?? '', list);
    }
  }
  return byShard;
}
