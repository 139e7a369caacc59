import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { _Record } from '@aws-sdk/client-dynamodb-streams';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ChangeRecord,
  DynamoDBStream,
  type DynamoDBStreamEventRecord,
  fromLambdaRecord,
  type LambdaAttributeValue,
  RecordDecodeError,
  toDynamoDBStreamEventRecord,
} from '../src/index.js';
import { createStreamTable } from './tables.js';

const { clients } = localAws();
afterAll(() => clients.destroy());

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
      const converted = fromLambdaRecord(
        toDynamoDBStreamEventRecord(record.raw, { eventSourceARN: streamArn }),
        {
          shardId: record.shardId,
        },
      );
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

describe('toDynamoDBStreamEventRecord', () => {
  const arn = 'arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/2024';

  it('is the inverse of fromLambdaRecord for records read from DynamoDB Local (binaries byte-exact)', async () => {
    const { tableName, streamArn } = await createStreamTable(clients.dynamodb);
    const blob = new Uint8Array(300).map((_, i) => i % 256);
    await clients.dynamodb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          id: { S: 'a' },
          blob: { B: blob },
          nested: { M: { l: { L: [{ BS: [blob] }, { NULL: true }] } } },
        },
      }),
    );
    await clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { id: { S: 'a' } },
        UpdateExpression: 'SET n = :n, ok = :b',
        ExpressionAttributeValues: { ':n': { NS: ['1', '2.5'] }, ':b': { BOOL: false } },
      }),
    );
    const stream = new DynamoDBStream({ client: clients.dynamodbStreams, streamArn });
    const read: ChangeRecord[] = [];
    stream.on('record', (r) => {
      read.push(r);
    });
    await stream.fetchStreamState();
    expect(read).toHaveLength(2);
    for (const record of read) {
      const event = toDynamoDBStreamEventRecord(record.raw, { eventSourceARN: streamArn });
      expect(JSON.parse(JSON.stringify(event))).toEqual(event); // plain JSON, as Lambda delivers it
      expect(event.eventSourceARN).toBe(streamArn);
      expect(event.eventSource).toBe('aws:dynamodb');
      expect(event.dynamodb?.SequenceNumber).toBe(record.sequenceNumber);
      expect(event.dynamodb?.NewImage?.blob).toEqual({ B: Buffer.from(blob).toString('base64') });
      expect(fromLambdaRecord(event, { shardId: record.shardId }).raw).toEqual(record.raw);
    }
  });

  it('builds the Lambda form: base64 binaries, epoch seconds, userIdentity, region defaults', () => {
    const record: _Record = {
      eventID: 'e9',
      eventName: 'REMOVE',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      dynamodb: {
        ApproximateCreationDateTime: new Date(1_700_000_123_000),
        Keys: { id: { S: 'a' } },
        OldImage: {
          id: { S: 'a' },
          b: { B: new Uint8Array([0, 255, 7]) },
          bs: { BS: [new Uint8Array([1]), new Uint8Array(0)] },
          m: { M: { l: { L: [{ B: new Uint8Array([2]) }, { N: '3' }, { SS: ['x'] }] } } },
        },
        SequenceNumber: '000000000000000000042',
        SizeBytes: 17,
        StreamViewType: 'OLD_IMAGE',
      },
      userIdentity: { Type: 'Service', PrincipalId: 'dynamodb.amazonaws.com' },
    };
    expect(toDynamoDBStreamEventRecord(record, { eventSourceARN: arn })).toEqual({
      eventID: 'e9',
      eventName: 'REMOVE',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'eu-west-1',
      eventSourceARN: arn,
      dynamodb: {
        ApproximateCreationDateTime: 1_700_000_123,
        Keys: { id: { S: 'a' } },
        OldImage: {
          id: { S: 'a' },
          b: { B: 'AP8H' },
          bs: { BS: ['AQ==', ''] },
          m: { M: { l: { L: [{ B: 'Ag==' }, { N: '3' }, { SS: ['x'] }] } } },
        },
        SequenceNumber: '000000000000000000042',
        SizeBytes: 17,
        StreamViewType: 'OLD_IMAGE',
      },
      userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
    });
    expect(fromLambdaRecord(toDynamoDBStreamEventRecord(record, { eventSourceARN: arn })).ttlDelete).toBe(
      true,
    );
    expect(
      toDynamoDBStreamEventRecord({ ...record, awsRegion: 'ap-south-1' }, { eventSourceARN: arn }).awsRegion,
    ).toBe('ap-south-1');
    expect(
      toDynamoDBStreamEventRecord(
        { ...record, awsRegion: 'ap-south-1' },
        { eventSourceARN: arn, awsRegion: 'us-west-2' },
      ).awsRegion,
    ).toBe('us-west-2');
    expect(toDynamoDBStreamEventRecord({ dynamodb: {} }, { eventSourceARN: 'not-an-arn' })).toEqual({
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: 'not-an-arn',
      dynamodb: {},
    });
  });

  it('gives back the Lambda record fromLambdaRecord decoded', () => {
    const ttl = base({
      eventName: 'REMOVE',
      userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
    });
    for (const event of [base(), ttl]) {
      const raw = fromLambdaRecord(event, { unmarshall: false }).raw;
      expect(toDynamoDBStreamEventRecord(raw, { eventSourceARN: event.eventSourceARN! })).toEqual(event);
    }
  });
});
