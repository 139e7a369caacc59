import { randomBytes } from 'node:crypto';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { aggregate } from '@kinesis-archive/agg';
import type { KinesisEventRecord } from '@kinesis-archive/core';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ArchiveMode,
  ArchiveReader,
  ArchiveWriter,
  CHUNK_BYTES,
  CHUNK_KEY_PREFIX,
  createArchiveHandler,
  isPermanentFailure,
  RESERVED_QUARANTINE_PREFIX,
} from '../src/index.js';
import { collect, freshTable, lambdaRecord, rec, seq, text } from './helpers.js';

const { clients } = localAws();
const dynamodb = clients.dynamodb;
afterAll(() => clients.destroy());

const ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/orders';
const MiB = 1_048_576;

function logger() {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    warn: (message: string) => void lines.push(JSON.parse(message) as Record<string, unknown>),
  };
}

describe.each(['ALL', 'LATEST'] as const)(
  'a poison record never blocks its shard (%s)',
  (mode: ArchiveMode) => {
    it('a 2 MiB record mid-batch is quarantined byte-exact; the batch completes and is not retried from it', async () => {
      const tableName = await freshTable(dynamodb, mode);
      const log = logger();
      const handler = createArchiveHandler({ metrics: false, dynamodb, mode, tableName, logger: log });
      const poison = randomBytes(2 * MiB);
      const records = [
        lambdaRecord('a', seq(1), 'one', ARN),
        lambdaRecord('b', seq(2), 'two', ARN),
        lambdaRecord('big', seq(3), poison, ARN, 'shardId-000000000007'),
        lambdaRecord('c', seq(4), 'four', ARN),
        lambdaRecord('d', seq(5), 'five', ARN),
      ];
      expect(await handler({ Records: records })).toEqual({ batchItemFailures: [] });
      const reader = new ArchiveReader({ dynamodb, tableName, mode, consistentRead: true });
      const quarantined = await collect(reader.quarantine());
      expect(quarantined).toHaveLength(1);
      const [q] = quarantined;
      expect(Buffer.compare(Buffer.from(q!.data), poison)).toBe(0);
      expect(q).toMatchObject({
        payloadKind: 'data',
        partitionKey: 'big',
        sequenceNumber: seq(3),
        subSequenceNumber: 0,
        shardId: 'shardId-000000000007',
        eventSourceARN: ARN,
        error: { code: 'RECORD_TOO_LARGE' },
      });
      expect(q!.approximateArrivalTimestamp?.getTime()).toBe(1_700_000_000_500);
      // logged once, with what an operator needs (and not the data)
      expect(log.lines).toHaveLength(1);
      expect(log.lines[0]).toMatchObject({
        code: 'RECORD_TOO_LARGE',
        sequenceNumber: seq(3),
        partitionKey: 'big',
      });
      expect(JSON.stringify(log.lines[0]).length).toBeLessThan(2000);
      // the rest is archived, and reads never show the quarantine
      const archived = await collect(reader.scan());
      expect(archived.map((r) => r.partitionKey).sort()).toEqual(['a', 'b', 'c', 'd']);
      // the same batch again (a re-delivery): still one entry
      expect(await handler({ Records: records })).toEqual({ batchItemFailures: [] });
      expect(await collect(reader.quarantine())).toHaveLength(1);
    });
  },
);

describe('transient and permanent failures in one event', () => {
  it('reports the transient failure for retry, and only it', async () => {
    const tableName = await freshTable(dynamodb, 'ALL');
    const OTHER = 'arn:aws:kinesis:us-east-1:123456789012:stream/other';
    const handler = createArchiveHandler({
      metrics: false,
      dynamodb,
      mode: 'ALL',
      // the other stream's table does not exist: a failure that a retry (after the table is created) fixes
      tableName: (stream) => (stream === 'orders' ? tableName : 'no-such-table-here'),
      retry: { maxAttempts: 1 },
      logger: logger(),
    });
    const bad = lambdaRecord('k', seq(2), 'x', ARN);
    bad.kinesis.data = '%%%not base64';
    const response = await handler({
      Records: [
        lambdaRecord('k', seq(1), 'x', ARN),
        bad,
        lambdaRecord('o', seq(10), 'y', OTHER, 'shardId-000000000001'),
        lambdaRecord('o', seq(11), 'z', OTHER, 'shardId-000000000001'),
      ],
    });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: seq(10) }] });
    const reader = new ArchiveReader({ dynamodb, tableName, mode: 'ALL', consistentRead: true });
    const [q, ...more] = await collect(reader.quarantine());
    expect(more).toEqual([]);
    // not a readable record: the whole event record is kept, as JSON
    expect(q!.payloadKind).toBe('raw');
    expect(q!.error.code).toBe('INVALID_RECORD');
    const kept = JSON.parse(text(q!.data)) as KinesisEventRecord;
    expect(kept).toEqual(bad);
  });

  it('a record without any sequence number is quarantined, not thrown', async () => {
    const tableName = await freshTable(dynamodb, 'ALL');
    const handler = createArchiveHandler({
      metrics: false,
      dynamodb,
      mode: 'ALL',
      tableName,
      logger: logger(),
    });
    const anonymous = { eventSourceARN: ARN, eventID: 'nothing' } as unknown as KinesisEventRecord;
    expect(await handler({ Records: [lambdaRecord('k', seq(1), 'x', ARN), anonymous] })).toEqual({
      batchItemFailures: [],
    });
    const [q] = await collect(new ArchiveReader({ dynamodb, tableName, mode: 'ALL' }).quarantine());
    expect(JSON.parse(text(q!.data))).toEqual(anonymous);
  });
});

describe('the writer and the quarantine', () => {
  it('a KPL sub-record with a reserved key is quarantined on its own, with its aggregate position', async () => {
    const tableName = await freshTable(dynamodb, 'LATEST');
    const writer = new ArchiveWriter({ dynamodb, tableName, mode: 'LATEST' });
    const [agg] = aggregate(
      [
        { partitionKey: 'fine', data: 'a' },
        { partitionKey: `${CHUNK_KEY_PREFIX}bad`, data: 'b' },
        { partitionKey: `${RESERVED_QUARANTINE_PREFIX}x`, data: 'c' },
      ],
      { mixShards: true },
    );
    const result = await writer.write([
      { data: agg!.data, partitionKey: agg!.partitionKey, sequenceNumber: seq(7) },
    ]);
    expect(result.written).toBe(1);
    expect(result.failed).toEqual([]);
    expect(result.quarantined.map((f) => [f.subSequenceNumber, f.error.code])).toEqual([
      [1, 'INVALID_RECORD'],
      [2, 'INVALID_RECORD'],
    ]);
    expect(result.quarantined.every((f) => isPermanentFailure(f.error))).toBe(true);
    const reader = new ArchiveReader({ dynamodb, tableName, mode: 'LATEST', consistentRead: true });
    const quarantined = await collect(reader.quarantine());
    expect(
      quarantined.map((q) => [q.partitionKey, q.subSequenceNumber, q.aggregated, text(q.data)]).sort(),
    ).toEqual([
      [`${CHUNK_KEY_PREFIX}bad`, 1, true, 'b'],
      [`${RESERVED_QUARANTINE_PREFIX}x`, 2, true, 'c'],
    ]);
    expect((await collect(reader.scan())).map((r) => r.partitionKey)).toEqual(['fine']);
    // re-driving cannot fix a reserved key: they stay, nothing else changes
    expect(await writer.redrive()).toEqual({ redriven: 0, stillQuarantined: 2, failed: [] });
    expect(await collect(reader.quarantine())).toHaveLength(2);
  });

  it('redrive with a writer that accepts the record archives it byte-exact and empties the quarantine', async () => {
    const tableName = await freshTable(dynamodb, 'ALL');
    const small = new ArchiveWriter({ dynamodb, tableName, mode: 'ALL' });
    const data = randomBytes(MiB + 10);
    const result = await small.write([rec('big', seq(1), data), rec('ok', seq(2))]);
    expect(result.written).toBe(1);
    expect(result.quarantined.map((f) => f.error.code)).toEqual(['RECORD_TOO_LARGE']);
    const reader = new ArchiveReader({ dynamodb, tableName, mode: 'ALL', consistentRead: true });
    expect(await reader.get('big')).toBeUndefined();
    const bigger = new ArchiveWriter({ dynamodb, tableName, mode: 'ALL', maxRecordBytes: 3 * MiB });
    expect(await bigger.redrive()).toEqual({ redriven: 1, stillQuarantined: 0, failed: [] });
    const back = await reader.get('big');
    expect(back?.sequenceNumber).toBe(seq(1));
    expect(back?.shardId).toBe('shardId-000000000000');
    expect(Buffer.compare(Buffer.from(back!.data), data)).toBe(0);
    expect(await collect(reader.quarantine())).toEqual([]);
    // no chunk of the quarantined copy is left behind: the table holds the record, its chunks and 'ok'
    expect((await collect(reader.scan())).map((r) => r.partitionKey).sort()).toEqual(['big', 'ok']);
    let count = 0;
    let key: Record<string, AttributeValue> | undefined;
    do {
      const page = await dynamodb.send(
        new ScanCommand({
          TableName: tableName,
          Select: 'COUNT',
          ConsistentRead: true,
          ExclusiveStartKey: key,
        }),
      );
      count += page.Count ?? 0;
      key = page.LastEvaluatedKey;
    } while (key);
    expect(count).toBe(2 + Math.ceil(data.length / CHUNK_BYTES));
  });

  it('quarantine: false reports permanent failures in failed, as before', async () => {
    const tableName = await freshTable(dynamodb, 'ALL');
    const writer = new ArchiveWriter({ dynamodb, tableName, mode: 'ALL', quarantine: false });
    const result = await writer.write([rec('big', seq(1), randomBytes(MiB + 1))]);
    expect(result.quarantined).toEqual([]);
    expect(result.failed.map((f) => f.error.code)).toEqual(['RECORD_TOO_LARGE']);
    expect(await collect(new ArchiveReader({ dynamodb, tableName, mode: 'ALL' }).quarantine())).toEqual([]);
  });

  it('rejects an invalid quarantine option', () => {
    const base = { dynamodb, tableName: 'some-table', mode: 'ALL' as const };
    expect(() => new ArchiveWriter({ ...base, quarantine: { tableName: 'x' } })).toThrow(
      /quarantine.tableName/,
    );
    expect(() => new ArchiveWriter({ ...base, quarantine: { ttlSeconds: -1 } })).toThrow(
      /quarantine.ttlSeconds/,
    );
    expect(() => new ArchiveWriter({ ...base, quarantine: 'yes' as unknown as boolean })).toThrow(
      /quarantine/,
    );
  });
});

describe('a quarantine table of its own', () => {
  it('keeps the records of a stream without a valid configuration, so its shards move on', async () => {
    const quarantineTable = await freshTable(dynamodb, 'ALL');
    const log = logger();
    // no mode option and no Kinesis client for tags: the stream has no archive mode
    const handler = createArchiveHandler({
      metrics: false,
      dynamodb,
      tableName: 'never-written',
      quarantine: { tableName: quarantineTable, ttlSeconds: 86_400 },
      logger: log,
    });
    const records = [lambdaRecord('k', seq(1), 'x', ARN), lambdaRecord('k', seq(2), 'y', ARN)];
    expect(await handler({ Records: records })).toEqual({ batchItemFailures: [] });
    const reader = new ArchiveReader({
      dynamodb,
      tableName: 'never-written',
      mode: 'ALL',
      quarantine: { tableName: quarantineTable },
      consistentRead: true,
    });
    const quarantined = await collect(reader.quarantine());
    expect(quarantined.map((q) => [q.error.code, q.sequenceNumber])).toEqual([
      ['INVALID_ARCHIVE_CONFIG', seq(1)],
      ['INVALID_ARCHIVE_CONFIG', seq(2)],
    ]);
    expect(JSON.parse(text(quarantined[0]!.data))).toEqual(records[0]);
    const ttl = quarantined[0]!.expireAfter!.getTime() - Date.now();
    expect(ttl).toBeGreaterThan(86_000_000);
    expect(log.lines.map((l) => l.code)).toEqual(['INVALID_ARCHIVE_CONFIG', 'INVALID_ARCHIVE_CONFIG']);
  });

  it('without one, a stream without a valid configuration is reported for retry (no table to keep it in)', async () => {
    const handler = createArchiveHandler({
      metrics: false,
      dynamodb,
      tableName: 'whatever-table',
      logger: logger(),
    });
    expect(await handler({ Records: [lambdaRecord('k', seq(9), 'x', ARN)] })).toEqual({
      batchItemFailures: [{ itemIdentifier: seq(9) }],
    });
  });
});
