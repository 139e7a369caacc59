import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { RecordInput } from '@kinesis-archive/agg';
import type { KinesisEventRecord } from '@kinesis-archive/core';
import {
  createLocalClients,
  type FaultRule,
  type LocalAwsEndpoints,
  startFaultProxy,
  uniqueName,
} from '@kinesis-archive/local';
import { type ArchiveMode, createArchiveTable } from '../src/index.js';

/** A fresh archive table for one test. */
export async function freshTable(
  dynamodb: DynamoDBClient,
  mode: ArchiveMode,
  options: { ttl?: boolean } = {},
): Promise<string> {
  const tableName = uniqueName(`archive-${mode.toLowerCase()}`);
  await createArchiveTable(dynamodb, { tableName, mode, ...options });
  return tableName;
}

/** A 56-digit sequence number ending in `n` (all of the same length, so numeric and string order agree). */
export function seq(n: number | bigint): string {
  return (49_600_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000n + BigInt(n)).toString();
}

/** A plain record input. */
export function rec(
  partitionKey: string,
  sequenceNumber: string,
  data: string | Uint8Array = `v-${sequenceNumber}`,
): RecordInput {
  return {
    partitionKey,
    sequenceNumber,
    data: typeof data === 'string' ? new TextEncoder().encode(data) : data,
    approximateArrivalTimestamp: new Date(1_700_000_000_000),
    shardId: 'shardId-000000000000',
  };
}

/** A Lambda Kinesis event record. */
export function lambdaRecord(
  partitionKey: string,
  sequenceNumber: string,
  data: Uint8Array | string,
  stream = 'arn:aws:kinesis:us-east-1:123456789012:stream/test',
  shardId = 'shardId-000000000000',
): KinesisEventRecord {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  return {
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    awsRegion: 'us-east-1',
    eventSourceARN: stream,
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey,
      sequenceNumber,
      data: Buffer.from(bytes).toString('base64'),
      approximateArrivalTimestamp: 1_700_000_000.5,
    },
  };
}

/** Collects an async iterable. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Text of a record's data. */
export function text(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}

/**
 * A fault proxy in front of DynamoDB Local and a client through it. The client's SDK does not retry on its own
 * (`maxAttempts: 1`), so every injected fault reaches the code under test, whose own retries are what is tested.
 */
export async function throughProxy(endpoints: LocalAwsEndpoints, rules: FaultRule[], seed = 7) {
  const proxy = await startFaultProxy({ target: endpoints.dynamodb!, seed, rules });
  const proxied = createLocalClients(
    { region: endpoints.region, dynamodb: proxy.endpoint },
    { maxAttempts: 1 },
  );
  return {
    proxy,
    dynamodb: proxied.dynamodb,
    async close() {
      proxied.destroy();
      await proxy.stop();
    },
  };
}
