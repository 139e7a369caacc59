import { request } from 'node:http';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  PutItemCommand,
  ScanCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  PutRecordsCommand,
  type PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalClients } from '../src/clients.js';
import { startFaultProxy } from '../src/fault-proxy.js';
import type { FaultRule } from '../src/fault-rules.js';
import { uniqueName } from '../src/names.js';
import { localAws } from '../src/vitest-setup.js';
import { rejectionOf } from './helpers.js';

const { endpoints, clients } = localAws();
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function proxyTo(target: string | undefined, rules: FaultRule[], seed = 3) {
  const proxy = await startFaultProxy({ target: target ?? '', seed, rules });
  const through = createLocalClients(
    { region: endpoints.region, kinesis: proxy.endpoint, dynamodb: proxy.endpoint },
    { maxAttempts: 1 },
  );
  cleanups.push(
    () => proxy.stop(),
    () => through.destroy(),
  );
  return { proxy, ...through };
}

async function readStream(stream: string): Promise<{ data: string; sequenceNumber: string }[]> {
  const iterator = await clients.kinesis.send(
    new GetShardIteratorCommand({
      StreamName: stream,
      ShardId: 'shardId-000000000000',
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
  const got = await clients.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator.ShardIterator }));
  return (got.Records ?? []).map((r) => ({
    data: Buffer.from(r.Data ?? []).toString(),
    sequenceNumber: r.SequenceNumber ?? '',
  }));
}

async function createTable(): Promise<string> {
  const table = uniqueName('partial');
  await clients.dynamodb.send(
    new CreateTableCommand({
      TableName: table,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  return table;
}

async function keysIn(table: string): Promise<string[]> {
  const scan = await clients.dynamodb.send(new ScanCommand({ TableName: table }));
  return (scan.Items ?? []).map((item) => item.pk?.S ?? '').sort();
}

const keyOf = (w: WriteRequest) => w.PutRequest?.Item?.pk?.S ?? w.DeleteRequest?.Key?.pk?.S ?? '';

describe('fault proxy: partial failures', () => {
  it('PutRecords: results aligned with the request; forwarded entries are in the stream, failed ones are not', async () => {
    const { proxy, kinesis } = await proxyTo(endpoints.kinesis, [
      { operation: 'PutRecords', fault: 'partial', probability: 1, entryFailureRate: 0.4 },
    ]);
    const stream = uniqueName('partial');
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
    const data = Array.from({ length: 30 }, (_, i) => `record-${i}`);
    const put = await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: data.map((d) => ({ Data: Buffer.from(d), PartitionKey: d })),
      }),
    );
    const results = put.Records ?? [];
    expect(results).toHaveLength(data.length);
    const failed = results.flatMap((r: PutRecordsResultEntry, i) => (r.ErrorCode ? [i] : []));
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThan(data.length);
    expect(put.FailedRecordCount).toBe(failed.length);
    for (const i of failed) {
      expect(results[i]).toMatchObject({ ErrorCode: 'ProvisionedThroughputExceededException' });
      expect(results[i]?.ErrorMessage).toMatch(/Rate exceeded for shard/);
      expect(results[i]?.SequenceNumber).toBeUndefined();
    }
    const inStream = await readStream(stream);
    const expected = data
      .map((d, i) => ({ data: d, sequenceNumber: results[i]?.SequenceNumber ?? '' }))
      .filter((_, i) => !failed.includes(i));
    expect(inStream).toEqual(expected);
    expect(proxy.counts()).toMatchObject({ injected: { partial: 1 }, failedEntries: failed.length });
    expect(proxy.counts().byOperation.PutRecords).toMatchObject({ partial: 1, failedEntries: failed.length });
  });

  it('PutRecords: a one-entry request fails whole with the chosen error code and reaches nothing', async () => {
    const { proxy, kinesis } = await proxyTo(endpoints.kinesis, [
      { operation: 'PutRecords', fault: 'partial', probability: 1, errorCode: 'InternalFailure' },
    ]);
    const stream = uniqueName('partial-one');
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
    const put = await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: [{ Data: Buffer.from('only'), PartitionKey: 'k' }],
      }),
    );
    expect(put.FailedRecordCount).toBe(1);
    expect(put.Records).toEqual([
      { ErrorCode: 'InternalFailure', ErrorMessage: expect.stringMatching(/Internal/) },
    ]);
    expect(await readStream(stream)).toEqual([]);
    expect(proxy.counts().byOperation.PutRecords).toEqual({ requests: 1, partial: 1, failedEntries: 1 });
  });

  it('BatchWriteItem: returns some items as UnprocessedItems in request shape; only the others are written', async () => {
    const [tableA, tableB] = [await createTable(), await createTable()];
    for (const pk of ['old-1', 'old-2']) {
      await clients.dynamodb.send(new PutItemCommand({ TableName: tableA, Item: { pk: { S: pk } } }));
    }
    const { proxy, dynamodb } = await proxyTo(endpoints.dynamodb, [
      { operation: 'BatchWriteItem', fault: 'partial', probability: 1, entryFailureRate: 0.5 },
    ]);
    const requestItems: Record<string, WriteRequest[]> = {
      [tableA]: [
        ...Array.from({ length: 12 }, (_, i) => ({
          PutRequest: { Item: { pk: { S: `a-${i}` }, v: { N: `${i}` } } },
        })),
        { DeleteRequest: { Key: { pk: { S: 'old-1' } } } },
        { DeleteRequest: { Key: { pk: { S: 'old-2' } } } },
      ],
      [tableB]: Array.from({ length: 8 }, (_, i) => ({ PutRequest: { Item: { pk: { S: `b-${i}` } } } })),
    };
    const out = await dynamodb.send(new BatchWriteItemCommand({ RequestItems: requestItems }));
    const unprocessed = out.UnprocessedItems ?? {};
    const allUnprocessed = Object.values(unprocessed).flat();
    expect(allUnprocessed.length).toBeGreaterThan(0);
    expect(allUnprocessed.length).toBeLessThan(22);
    // Every unprocessed entry is, verbatim, one of the request's entries for the same table.
    for (const [table, list] of Object.entries(unprocessed)) {
      for (const entry of list) expect(requestItems[table]).toContainEqual(entry);
    }
    const left = (table: string) => new Set((unprocessed[table] ?? []).map(keyOf));
    const expectedA = ['a-0', 'a-1', 'a-2', 'a-3', 'a-4', 'a-5', 'a-6', 'a-7', 'a-8', 'a-9', 'a-10', 'a-11']
      .filter((k) => !left(tableA).has(k))
      .concat(['old-1', 'old-2'].filter((k) => left(tableA).has(k)));
    expect(await keysIn(tableA)).toEqual(expectedA.sort());
    const expectedB = Array.from({ length: 8 }, (_, i) => `b-${i}`).filter((k) => !left(tableB).has(k));
    expect(await keysIn(tableB)).toEqual(expectedB.sort());
    expect(proxy.counts()).toMatchObject({ injected: { partial: 1 }, failedEntries: allUnprocessed.length });
    // Retrying the unprocessed items through a clean path completes the batch.
    proxy.setRules([]);
    const retry = await dynamodb.send(new BatchWriteItemCommand({ RequestItems: unprocessed }));
    expect(retry.UnprocessedItems ?? {}).toEqual({});
    expect(await keysIn(tableA)).toEqual(requestItems[tableA]?.slice(0, 12).map(keyOf).sort());
  });

  it('passes the stand-in error through when it refuses the forwarded part, and counts no injection', async () => {
    const { proxy, kinesis } = await proxyTo(endpoints.kinesis, [
      { operation: 'PutRecords', fault: 'partial', probability: 1, entryFailureRate: 0.2 },
    ]);
    const records = Array.from({ length: 10 }, (_, i) => ({
      Data: Buffer.from(`${i}`),
      PartitionKey: `${i}`,
    }));
    const error = await rejectionOf(
      kinesis.send(new PutRecordsCommand({ StreamName: uniqueName('missing'), Records: records })),
    );
    expect(error.name).toBe('ResourceNotFoundException');
    expect(proxy.counts()).toMatchObject({ requests: 1, forwarded: 1, injected: {}, failedEntries: 0 });
  });

  it('never injects into a body it cannot read: it is forwarded as it is', async () => {
    const { proxy } = await proxyTo(endpoints.kinesis, [{ fault: 'partial', probability: 1 }]);
    const { hostname, port } = new URL(proxy.endpoint);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          hostname,
          port,
          method: 'POST',
          path: '/',
          headers: {
            'content-type': 'application/x-amz-json-1.1',
            'x-amz-target': 'Kinesis_20131202.PutRecords',
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end('{"Records": not json');
    });
    expect(status).toBeGreaterThanOrEqual(400);
    expect(proxy.counts()).toMatchObject({ requests: 1, forwarded: 1, injected: {}, failedEntries: 0 });
  });
});
