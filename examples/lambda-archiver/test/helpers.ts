import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { ArchiveReader } from '@kinesis-archive/archive';
import { type KinesisStreamEvent, toKinesisEventRecord } from '@kinesis-archive/core';
import { createStream, readStream, uniqueName } from '@kinesis-archive/local';

/** A record as put: its key and data. */
export interface Sent {
  partitionKey: string;
  data: Uint8Array;
}

/** `count` records over `keys` keys, binary payloads covering every byte value (`seed` varies them). */
export function recordsOver(count: number, keys: number, seed = 0): Sent[] {
  return Array.from({ length: count }, (_, i) => ({
    partitionKey: `key-${i % keys}`,
    data: new Uint8Array(64).map((_, j) => (i + j + seed) % 256),
  }));
}

/**
 * Creates a 2-shard stream, puts `records` in order, reads them back and returns the Lambda event a Kinesis event
 * source mapping would deliver. (KPL aggregates in events are covered by the archive package's own tests.)
 */
export async function streamWith(kinesis: KinesisClient, records: Sent[], tags?: Record<string, string>) {
  const streamName = uniqueName('archiver');
  const arn = await createStream(kinesis, streamName, { shards: 2, tags });
  await putInOrder(kinesis, streamName, records);
  return { streamName, arn, sent: records, event: await eventOf(kinesis, streamName, arn) };
}

/** Puts records in order, in requests of at most 4 MiB. */
export async function putInOrder(kinesis: KinesisClient, streamName: string, records: Sent[]): Promise<void> {
  let batch: Sent[] = [];
  let bytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const out = await kinesis.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: batch.map((r) => ({ PartitionKey: r.partitionKey, Data: r.data })),
      }),
    );
    if (out.FailedRecordCount) throw new Error(`${out.FailedRecordCount} records were not put`);
    batch = [];
    bytes = 0;
  };
  for (const record of records) {
    if (bytes + record.data.length > 4 * 1024 * 1024 || batch.length === 500) await flush();
    batch.push(record);
    bytes += record.data.length;
  }
  await flush();
}

/** The whole stream as one Lambda event (every shard from TRIM_HORIZON). */
export async function eventOf(
  kinesis: KinesisClient,
  streamName: string,
  arn: string,
): Promise<KinesisStreamEvent> {
  const event: KinesisStreamEvent = { Records: [] };
  for (const { shardId, records } of await readStream(kinesis, streamName)) {
    for (const r of records) event.Records.push(toKinesisEventRecord(r, { shardId, eventSourceARN: arn }));
  }
  return event;
}

/** `count` records over `keys` keys on a new stream, and their Lambda event. */
export function streamWithRecords(
  kinesis: KinesisClient,
  count: number,
  keys: number,
  tags?: Record<string, string>,
) {
  return streamWith(kinesis, recordsOver(count, keys), tags);
}

/** Every archived record, as key and data. */
export async function readAll(reader: ArchiveReader): Promise<Sent[]> {
  const out: Sent[] = [];
  for await (const r of reader.scan()) out.push({ partitionKey: r.partitionKey, data: r.data });
  return out;
}

/** Orders records by key, then bytes. */
export const byKeyAndBytes = (a: Sent, b: Sent): number =>
  a.partitionKey.localeCompare(b.partitionKey) || Buffer.compare(Buffer.from(a.data), Buffer.from(b.data));
