import { createHash } from 'node:crypto';
import { uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ArchiveInput,
  ArchiveReader,
  ArchiveTableNotFoundError,
  ArchiveWriter,
  createArchiveHandler,
  InvalidArchiveOptionError,
} from '../src/index.js';
import { freshTable, lambdaRecord, rec, seq } from './helpers.js';

const { clients } = localAws();
const dynamodb = clients.dynamodb;
afterAll(() => clients.destroy());

describe.each(['ALL', 'LATEST'] as const)(
  'bad input (%s): reported per record, the rest archived',
  (mode) => {
    it('quarantines each malformed record with a typed error and its sequence number', async () => {
      const tableName = await freshTable(dynamodb, mode);
      const writer = new ArchiveWriter({ dynamodb, tableName, mode });
      const good = lambdaRecord('good', seq(1), 'ok');
      const noPayload = { ...lambdaRecord('x', seq(2), 'x'), kinesis: undefined };
      const notBase64 = lambdaRecord('x', seq(3), 'x');
      notBase64.kinesis.data = 'not base64!!';
      const tooLong = `1${'0'.repeat(129)}`; // 130 digits: over the 129 of a Kinesis sequence number
      const badSeq = lambdaRecord('x', tooLong, 'x');
      const noSeq = rec('x', 'abc');
      const emptyKey = rec('', seq(6));
      const notData = { partitionKey: 'x', sequenceNumber: seq(7), data: 'a string' };
      const inputs = [
        good,
        noPayload,
        notBase64,
        badSeq,
        noSeq,
        emptyKey,
        notData,
        null,
        42,
      ] as unknown as ArchiveInput[];
      const result = await writer.write(inputs);
      expect(result.written).toBe(1);
      expect(result.failed).toEqual([]);
      expect(result.quarantined.map((f) => [f.index, f.error.code])).toEqual([
        [1, 'INVALID_RECORD'],
        [2, 'INVALID_RECORD'],
        [3, 'INVALID_SEQUENCE_NUMBER'],
        [4, 'INVALID_SEQUENCE_NUMBER'],
        [5, 'INVALID_RECORD'],
        [6, 'INVALID_RECORD'],
        [7, 'INVALID_RECORD'],
        [8, 'INVALID_RECORD'],
      ]);
      expect(result.quarantined[1]!.sequenceNumber).toBe(seq(3));
      expect(result.quarantined[2]!.sequenceNumber).toBe(tooLong);
      expect(result.quarantined[4]!.sequenceNumber).toBe(seq(6));
      const reader = new ArchiveReader({ dynamodb, tableName, mode, consistentRead: true });
      expect((await reader.get('good'))?.sequenceNumber).toBe(seq(1));
      const kept = [];
      for await (const q of reader.quarantine()) kept.push(q.error.code);
      expect(kept.sort()).toEqual(result.quarantined.map((f) => f.error.code).sort());
      // with quarantine: false they are reported in failed instead
      const reporting = new ArchiveWriter({ dynamodb, tableName, mode, quarantine: false });
      const reported = await reporting.write(inputs);
      expect(reported.quarantined).toEqual([]);
      expect(reported.failed.map((f) => [f.index, f.error.code])).toEqual(
        result.quarantined.map((f) => [f.index, f.error.code]),
      );
    });

    it('reports every record as TABLE_NOT_FOUND when the table is missing', async () => {
      const writer = new ArchiveWriter({ dynamodb, tableName: uniqueName('missing'), mode });
      const result = await writer.write([rec('a', seq(1)), rec('b', seq(2))]);
      expect(result.written).toBe(0);
      expect(result.failed.map((f) => f.error.code)).toEqual(['TABLE_NOT_FOUND', 'TABLE_NOT_FOUND']);
      expect(result.failed[0]!.error).toBeInstanceOf(ArchiveTableNotFoundError);
    });

    it('the reader throws ArchiveTableNotFoundError for a missing table', async () => {
      const reader = new ArchiveReader({ dynamodb, tableName: uniqueName('missing'), mode });
      await expect(reader.get('a')).rejects.toBeInstanceOf(ArchiveTableNotFoundError);
      await expect(reader.scan()[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(
        ArchiveTableNotFoundError,
      );
    });
  },
);

describe('invalid options', () => {
  it('are rejected with INVALID_OPTION', () => {
    const base = { dynamodb, tableName: 'some-table' };
    expect(() => new ArchiveWriter({ ...base, mode: 'SOME' as 'ALL' })).toThrow(InvalidArchiveOptionError);
    expect(() => new ArchiveWriter({ ...base, mode: 'ALL', ttlSeconds: -1 })).toThrow(
      InvalidArchiveOptionError,
    );
    // ALL accepts tombstones (markers kept with the history), but has no retention for them
    expect(() => new ArchiveWriter({ ...base, mode: 'ALL', tombstones: true })).not.toThrow();
    expect(() => new ArchiveWriter({ ...base, mode: 'ALL', tombstones: { retentionSeconds: 60 } })).toThrow(
      /tombstones.retentionSeconds/,
    );
    expect(() => new ArchiveWriter({ ...base, mode: 'LATEST', maxRecordBytes: 11 * 1_048_576 })).toThrow(
      InvalidArchiveOptionError,
    );
    expect(() => new ArchiveReader({ ...base, mode: 'latest' as 'LATEST' })).toThrow(
      InvalidArchiveOptionError,
    );
  });

  it('reader arguments are checked', async () => {
    const reader = new ArchiveReader({ dynamodb, tableName: 'some-table', mode: 'ALL' });
    await expect(reader.scan({ segment: 1 }).next()).rejects.toThrow(InvalidArchiveOptionError);
    await expect(reader.scan({ segment: 2, totalSegments: 2 }).next()).rejects.toThrow(
      InvalidArchiveOptionError,
    );
    await expect(reader.scan({ limit: 0 }).next()).rejects.toThrow(InvalidArchiveOptionError);
    await expect(reader.query({ partitionKey: 'k', fromSequence: 'x1' }).next()).rejects.toMatchObject({
      code: 'INVALID_SEQUENCE_NUMBER',
    });
    await expect(reader.query({ partitionKey: 'k', from: new Date('nope') }).next()).rejects.toThrow(
      InvalidArchiveOptionError,
    );
  });

  it('write() rejects something that is not an array', async () => {
    const writer = new ArchiveWriter({ dynamodb, tableName: 'some-table', mode: 'ALL' });
    await expect(writer.write({ Records: [] } as unknown as ArchiveInput[])).rejects.toThrow(
      InvalidArchiveOptionError,
    );
  });
});

/** A KPL aggregate built by hand (a producer other than the KPL), so that it can hold any partition key. */
function foreignAggregate(users: Array<{ partitionKey: string; data: string }>): Buffer {
  const varint = (n: number): number[] => {
    const out: number[] = [];
    while (n > 127) {
      out.push((n & 127) | 128);
      n >>>= 7;
    }
    out.push(n);
    return out;
  };
  const field = (tag: number, bytes: Buffer): Buffer => Buffer.from([tag, ...varint(bytes.length), ...bytes]);
  const message = Buffer.concat([
    ...users.map((u) => field(0x0a, Buffer.from(u.partitionKey))),
    ...users.map((u, i) =>
      field(0x1a, Buffer.concat([Buffer.from([0x08, ...varint(i)]), field(0x1a, Buffer.from(u.data))])),
    ),
  ]);
  return Buffer.concat([
    Buffer.from([0xf3, 0x89, 0x9a, 0xc2]),
    message,
    createHash('md5').update(message).digest(),
  ]);
}

describe('a user record whose partition key Kinesis would not accept (over 256 characters)', () => {
  it('ALL: is quarantined alone as INVALID_RECORD; the records written with it are archived and the shard moves on', async () => {
    const tableName = await freshTable(dynamodb, 'ALL');
    const handler = createArchiveHandler({
      metrics: false,
      dynamodb,
      mode: 'ALL',
      tableName,
      logger: { warn: () => {} },
    });
    const arn = 'arn:aws:kinesis:us-east-1:123456789012:stream/foreign';
    const records = Array.from({ length: 25 }, (_, i) => lambdaRecord(`k-${i}`, seq(i), `d-${i}`, arn));
    const agg = foreignAggregate([
      { partitionKey: 'fine', data: 'a' },
      { partitionKey: 'x'.repeat(2_100), data: 'b' },
    ]);
    records[20] = lambdaRecord('a', seq(20), agg, arn);
    expect(await handler({ Records: records })).toEqual({ batchItemFailures: [] });
    const reader = new ArchiveReader({ dynamodb, tableName, mode: 'ALL', consistentRead: true });
    for (let i = 0; i < 25; i++)
      if (i !== 20) expect((await reader.get(`k-${i}`))?.sequenceNumber).toBe(seq(i));
    expect((await reader.get('fine'))?.sequenceNumber).toBe(seq(20));

    const writer = new ArchiveWriter({ dynamodb, tableName, mode: 'ALL' });
    const result = await writer.write(records);
    expect(result.quarantined.map((f) => [f.index, f.subSequenceNumber, f.error.code])).toEqual([
      [20, 1, 'INVALID_RECORD'],
    ]);
    const quarantined = [];
    for await (const q of reader.quarantine()) quarantined.push(q);
    expect(quarantined.map((q) => [q.partitionKey, q.sequenceNumber, q.subSequenceNumber])).toEqual([
      ['x'.repeat(2_100), seq(20), 1],
    ]);
  });
});
