import { aggregate } from '@kinesis-archive/agg';
import type { KinesisEventRecord, KinesisStreamEvent } from '@kinesis-archive/core';
import { createLocalClients, createStream, startFaultProxy, uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ArchiveReader,
  archiveTableName,
  createArchiveHandler,
  createArchiveTable,
  streamNameOfArn,
  UnreportableFailureError,
} from '../src/index.js';
import event from './fixtures/lambda-event-aggregated.json' with { type: 'json' };
import { collect, freshTable, lambdaRecord, seq } from './helpers.js';

const { clients, endpoints } = localAws();
const dynamodb = clients.dynamodb;
afterAll(() => clients.destroy());

const ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/orders';

describe('createArchiveHandler', () => {
  it('archives an aggregated event and reports no failures', async () => {
    const tableName = await freshTable(dynamodb, 'ALL');
    const handler = createArchiveHandler({ metrics: false, dynamodb, mode: 'ALL', tableName });
    const response = await handler(event as KinesisStreamEvent);
    expect(response).toEqual({ batchItemFailures: [] });
    const reader = new ArchiveReader({ dynamodb, tableName, mode: 'ALL' });
    const stored = await collect(reader.scan());
    expect(stored.length).toBeGreaterThan(1);
    expect(stored.every((r) => r.shardId === 'shardId-000000000000')).toBe(true);
  });

  it('reports the first record that failed when the table fails mid-batch, and a retry from there completes', async () => {
    const tableName = await freshTable(dynamodb, 'LATEST');
    const proxy = await startFaultProxy({
      target: endpoints.dynamodb!,
      seed: 42,
      rules: [{ operation: 'UpdateItem', fault: 'internal', probability: 0.5 }],
    });
    const proxied = createLocalClients(
      { region: endpoints.region, dynamodb: proxy.endpoint },
      { maxAttempts: 1 },
    );
    try {
      const handler = createArchiveHandler({
        metrics: false,
        dynamodb: proxied.dynamodb,
        mode: 'LATEST',
        tableName,
        retry: { maxAttempts: 1 },
        concurrency: 1,
      });
      const records = Array.from({ length: 40 }, (_, i) =>
        lambdaRecord(`key-${i}`, seq(100 + i), `d-${i}`, ARN),
      );
      const { batchItemFailures } = await handler({ Records: records });
      expect(batchItemFailures).toHaveLength(1);
      const failedAt = records.findIndex(
        (r) => r.kinesis.sequenceNumber === batchItemFailures[0]!.itemIdentifier,
      );
      expect(failedAt).toBeGreaterThanOrEqual(0);
      const reader = new ArchiveReader({ dynamodb, tableName, mode: 'LATEST', consistentRead: true });
      // Everything before the reported record is archived (Lambda will not deliver it again).
      for (let i = 0; i < failedAt; i++) expect(await reader.get(`key-${i}`)).toBeDefined();
      expect(await reader.get(`key-${failedAt}`)).toBeUndefined();
      // Lambda retries from the reported record; the table has recovered.
      proxy.setRules([]);
      expect(await handler({ Records: records.slice(failedAt) })).toEqual({ batchItemFailures: [] });
      for (let i = 0; i < records.length; i++)
        expect((await reader.get(`key-${i}`))?.sequenceNumber).toBe(seq(100 + i));
    } finally {
      proxied.destroy();
      await proxy.stop();
    }
  });

  it("reports a KPL sub-record's failure with its aggregate's sequence number", async () => {
    const tableName = await freshTable(dynamodb, 'ALL');
    // quarantine off: the reserved key is then a failure to report like any other
    const handler = createArchiveHandler({
      metrics: false,
      dynamodb,
      mode: 'ALL',
      tableName,
      quarantine: false,
    });
    const [agg] = aggregate(
      [
        { partitionKey: 'fine', data: 'a' },
        { partitionKey: '\u0000chunk\u0000bad', data: 'b' },
      ],
      { mixShards: true },
    );
    const records = [
      lambdaRecord('p', seq(1), 'one', ARN),
      lambdaRecord(agg!.partitionKey, seq(2), agg!.data, ARN),
      lambdaRecord('p', seq(3), 'three', ARN),
    ];
    expect(await handler({ Records: records })).toEqual({ batchItemFailures: [{ itemIdentifier: seq(2) }] });
  });

  it('archives events from several streams into their own tables, per-stream failures only', async () => {
    const streamA = uniqueName('stream-a');
    const streamB = uniqueName('stream-b'); // no table: its records fail
    await createArchiveTable(dynamodb, { tableName: archiveTableName(streamA, 'ALL'), mode: 'ALL' });
    const handler = createArchiveHandler({ metrics: false, dynamodb, mode: 'ALL' });
    const arn = (s: string) => `arn:aws:kinesis:us-east-1:123456789012:stream/${s}`;
    const records = [
      lambdaRecord('k', seq(1), 'a1', arn(streamA)),
      lambdaRecord('k', seq(2), 'b2', arn(streamB)),
      lambdaRecord('k', seq(3), 'a3', arn(streamA)),
      lambdaRecord('k', seq(4), 'b4', arn(streamB)),
    ];
    expect(await handler({ Records: records })).toEqual({ batchItemFailures: [{ itemIdentifier: seq(2) }] });
    const reader = new ArchiveReader({ dynamodb, tableName: archiveTableName(streamA, 'ALL'), mode: 'ALL' });
    expect((await collect(reader.query({ partitionKey: 'k' }))).map((r) => r.sequenceNumber)).toEqual([
      seq(1),
      seq(3),
    ]);
  });

  it('with quarantine off, reports malformed records by the sequence number in their eventID, or throws when there is none', async () => {
    const tableName = await freshTable(dynamodb, 'ALL');
    const handler = createArchiveHandler({
      metrics: false,
      dynamodb,
      mode: 'ALL',
      tableName,
      quarantine: false,
    });
    const broken = lambdaRecord('k', seq(2), 'x', ARN);
    broken.kinesis.data = '%%%';
    expect(
      await handler({
        Records: [lambdaRecord('k', seq(1), 'x', ARN), broken, lambdaRecord('k', seq(3), 'x', ARN)],
      }),
    ).toEqual({ batchItemFailures: [{ itemIdentifier: seq(2) }] });
    const anonymous = { eventSourceARN: ARN, eventID: 'nothing' } as unknown as KinesisEventRecord;
    await expect(
      handler({ Records: [lambdaRecord('k', seq(1), 'x', ARN), anonymous] }),
    ).rejects.toBeInstanceOf(UnreportableFailureError);
  });

  it('fails the batch of a stream without a mode (no tag, no option)', async () => {
    const handler = createArchiveHandler({ metrics: false, dynamodb, tableName: 'whatever-table' });
    const response = await handler({ Records: [lambdaRecord('k', seq(9), 'x', ARN)] });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: seq(9) }] });
  });

  it('takes mode and TTL from the stream tags', async () => {
    const kinesis = clients.kinesis;
    const stream = uniqueName('tagged');
    const arn = await createStream(kinesis, stream, {
      tags: { StreamArchiveMode: 'latest', ArchiveTTL: 'expireSeconds=120' },
    });
    expect(streamNameOfArn(arn)).toBe(stream);
    const tableName = archiveTableName(stream, 'LATEST');
    await createArchiveTable(dynamodb, { tableName, mode: 'LATEST' });
    const handler = createArchiveHandler({ metrics: false, dynamodb, kinesis, mode: 'ALL' }); // the tag wins over the option
    const response = await handler({
      Records: [lambdaRecord('k', seq(1), 'x', arn), lambdaRecord('k', seq(2), 'y', arn)],
    });
    expect(response).toEqual({ batchItemFailures: [] });
    const got = await new ArchiveReader({ dynamodb, tableName, mode: 'LATEST' }).get('k');
    expect(got?.sequenceNumber).toBe(seq(2));
    const ttl = got!.expireAfter!.getTime() - Date.now();
    expect(ttl).toBeGreaterThan(110_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
  });
});
