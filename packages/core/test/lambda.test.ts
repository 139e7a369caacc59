import { describe, expect, it } from 'vitest';
import { shardIdOfEvent, toKinesisEventRecord } from '../src/index.js';

describe('toKinesisEventRecord', () => {
  it('builds the Lambda shape', () => {
    const when = new Date('2026-01-02T03:04:05.678Z');
    const rec = toKinesisEventRecord(
      {
        SequenceNumber: '123',
        PartitionKey: 'k',
        Data: new Uint8Array([0, 255, 1]),
        ApproximateArrivalTimestamp: when,
      },
      { shardId: 'shardId-000000000001', eventSourceARN: 'arn:aws:kinesis:eu-west-1:111122223333:stream/s' },
    );
    expect(rec.eventID).toBe('shardId-000000000001:123');
    expect(rec.eventSource).toBe('aws:kinesis');
    expect(rec.awsRegion).toBe('eu-west-1');
    expect(rec.invokeIdentityArn).toBe('arn:aws:iam::111122223333:role/local-event-source');
    expect(Buffer.from(rec.kinesis.data, 'base64')).toEqual(Buffer.from([0, 255, 1]));
    expect(rec.kinesis.approximateArrivalTimestamp).toBeCloseTo(when.getTime() / 1000, 6);
    expect(shardIdOfEvent(rec)).toBe('shardId-000000000001');
  });
  it('finds no shard in a malformed eventID', () => {
    expect(shardIdOfEvent({ eventID: 'nocolon' })).toBeUndefined();
  });
});
