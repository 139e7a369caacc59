import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { _Record, AttributeValue } from '@aws-sdk/client-dynamodb-streams';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ChangeRecord,
  DynamoDBStream,
  type DynamoDBStreamEventRecord,
  fromLambdaRecord,
  type LambdaAttributeValue,
  RecordDecodeError,
} from '../src/index.js';
import { createStreamTable } from './tables.js';

const { clients } = localAws();
afterAll(() => clients.destroy());

function lambdaValue(value: AttributeValue): LambdaAttributeValue {
  if (value.B) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (value.L) return { L: value.L.map(lambdaValue) };
  if (value.M) return { M: lambdaImage(value.M) };
  return value as LambdaAttributeValue;
}

function lambdaImage(image: Record<string, AttributeValue>): Record<string, LambdaAttributeValue> {
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, lambdaValue(value)]));
}

/** The record as Lambda's event source mapping delivers it (JSON: base64 binaries, epoch seconds). */
function asLambda(record: _Record, eventSourceARN: string): DynamoDBStreamEventRecord {
  const data = record.dynamodb ?? {};
  return JSON.parse(
    JSON.stringify({
      eventID: record.eventID,
      eventName: record.eventName,
      eventVersion: record.eventVersion,
      eventSource: record.eventSource,
      awsRegion: record.awsRegion,
      eventSourceARN,
      dynamodb: {
        ApproximateCreationDateTime: data.ApproximateCreationDateTime
          ? data.ApproximateCreationDateTime.getTime() / 1000
          : undefined,
        Keys: data.Keys && lambdaImage(data.Keys),
        NewImage: data.NewImage && lambdaImage(data.NewImage),
        OldImage: data.OldImage && lambdaImage(data.OldImage),
        SequenceNumber: data.SequenceNumber,
        SizeBytes: data.SizeBytes,
        StreamViewType: data.StreamViewType,
      },
    }),
  );
}

const base = (over: Partial<DynamoDBStreamEventRecord> = {}): DynamoDBStreamEventRecord => ({
  eventID: 'e1',
  eventName: 'INSERT',
  eventVersion: '1.1',
  eventSource: 'aws:dynamodb',
  awsRegion: 'us-east-1',
  eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024',
  dynamodb: {
    ApproximateCreationDateTime: 1_700_000_000,
    Keys: { id: { S: 'a' } },
    NewImage: { id: { S: 'a' }, n: { N: '12345678901234567890' }, b: { B: 'AP8H' }, bs: { BS: ['AQ=='] } },
    SequenceNumber: '000000000000000000111',
    SizeBytes: 42,
    StreamViewType: 'NEW_AND_OLD_IMAGES',
  },
  ...over,
});

describe('fromLambdaRecord', () => {
  it('equals what DynamoDBStream delivers for the same records read from DynamoDB Local', async () => {
    const { tableName, streamArn } = await createStreamTable(clients.dynamodb);
    const blob = new Uint8Array(256).map((_, i) => i);
    await clients.dynamodb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          id: { S: 'a' },
          blob: { B: blob },
          nested: { M: { l: { L: [{ BS: [blob] }, { N: '7' }] } } },
        },
      }),
    );
    await clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { id: { S: 'a' } },
        UpdateExpression: 'SET tags = :t',
        ExpressionAttributeValues: { ':t': { SS: ['x', 'y'] } },
      }),
    );
    await clients.dynamodb.send(
      new PutItemCommand({ TableName: tableName, Item: { id: { S: 'b' }, n: { N: '1' } } }),
    );
    const stream = new DynamoDBStream({ client: clients.dynamodbStreams, streamArn });
    const read: ChangeRecord[] = [];
    stream.on('record', (r) => {
      read.push(r);
    });
    await stream.fetchStreamState();
    expect(read.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'INSERT']);
    for (const record of read) {
      const converted = fromLambdaRecord(asLambda(record.raw, streamArn), { shardId: record.shardId });
      const { raw: _a, approximateCreationDateTime: timeA, ...rest } = converted;
      const { raw: _b, approximateCreationDateTime: timeB, ...expected } = record;
      expect(rest).toEqual(expected);
      expect(timeA?.getTime()).toBe(timeB?.getTime());
      expect(converted.raw.dynamodb?.NewImage).toEqual(record.raw.dynamodb?.NewImage);
    }
    expect(read[0]!.newImage?.blob).toEqual(blob);
  });

  it('decodes base64 binaries, keeps zero-padded sequence numbers, converts the time', () => {
    const change = fromLambdaRecord(base(), { unmarshall: { wrapNumbers: true } });
    expect(change.eventName).toBe('INSERT');
    expect(change.sequenceNumber).toBe('000000000000000000111');
    expect(change.shardId).toBe('');
    expect(change.keys).toEqual({ id: 'a' });
    expect(change.newImage?.b).toEqual(new Uint8Array([0, 255, 7]));
    expect(change.newImage?.bs).toEqual(new Set([new Uint8Array([1])]));
    expect(String((change.newImage!.n as { value: string }).value)).toBe('12345678901234567890');
    expect(change.approximateCreationDateTime).toEqual(new Date(1_700_000_000_000));
    expect(change.raw.dynamodb?.NewImage?.b).toEqual({ B: new Uint8Array([0, 255, 7]) });
    expect(fromLambdaRecord(base(), { unmarshall: false }).newImage?.b).toEqual({
      B: new Uint8Array([0, 255, 7]),
    });
  });

  it('flags TTL deletes by the service identity, and user deletes not', () => {
    const remove = (userIdentity?: DynamoDBStreamEventRecord['userIdentity']) =>
      fromLambdaRecord(
        base({
          eventName: 'REMOVE',
          dynamodb: { Keys: { id: { S: 'a' } }, OldImage: { id: { S: 'a' } }, SequenceNumber: '5' },
          ...(userIdentity ? { userIdentity } : {}),
        }),
      );
    const ttl = remove({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });
    expect(ttl.eventName).toBe('REMOVE');
    expect(ttl.ttlDelete).toBe(true);
    expect(ttl.userIdentity).toEqual({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });
    expect(ttl.oldImage).toEqual({ id: 'a' });
    expect(remove().ttlDelete).toBe(false);
  });

  it('throws RecordDecodeError for a record it cannot decode, never a silent drop', () => {
    const bad = (dynamodb: DynamoDBStreamEventRecord['dynamodb']) => () =>
      fromLambdaRecord(base({ dynamodb }));
    expect(bad({ Keys: { id: { S: 'a' } } })).toThrow(RecordDecodeError); // no sequence number
    expect(bad({ Keys: { id: { S: 'a' } }, SequenceNumber: '12a' })).toThrow(RecordDecodeError);
    expect(bad({ Keys: { id: { B: 'not base64!' } }, SequenceNumber: '1' })).toThrow(RecordDecodeError);
    expect(bad({ Keys: { id: { X: 'a' } as unknown as LambdaAttributeValue }, SequenceNumber: '1' })).toThrow(
      /unknown attribute value type|could not be decoded/,
    );
    try {
      bad({ Keys: { id: { B: '%%%' } }, SequenceNumber: '9' })();
    } catch (error) {
      expect((error as RecordDecodeError).code).toBe('RECORD_DECODE_FAILED');
      expect((error as RecordDecodeError).details).toMatchObject({ sequenceNumber: '9' });
    }
    expect.assertions(6);
  });
});
