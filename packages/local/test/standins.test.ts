import { CreateTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetShardIteratorCommand as GetStreamIteratorCommand,
  GetRecordsCommand as GetStreamRecordsCommand,
} from '@aws-sdk/client-dynamodb-streams';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListStreamsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { uniqueName } from '../src/names.js';
import { localAws } from '../src/vitest-setup.js';

const { clients } = localAws();

describe('the shared stand-ins (vitest global setup)', () => {
  it('accepts PutRecords right after CreateStream and reads the records back', async () => {
    const stream = uniqueName('active');
    await clients.kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
    const put = await clients.kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: ['a', 'b', 'c'].map((d) => ({ Data: Buffer.from(d), PartitionKey: d })),
      }),
    );
    expect(put.FailedRecordCount).toBe(0);
    const it0 = await clients.kinesis.send(
      new GetShardIteratorCommand({
        StreamName: stream,
        ShardId: put.Records?.[0]?.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const got = await clients.kinesis.send(new GetRecordsCommand({ ShardIterator: it0.ShardIterator }));
    expect(got.Records?.map((r) => Buffer.from(r.Data ?? []).toString())).toEqual(['a', 'b', 'c']);
  });

  it('serves DynamoDB Streams: an item put shows up as an INSERT record', async () => {
    const table = uniqueName('streams');
    const created = await clients.dynamodb.send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    const streamArn = created.TableDescription?.LatestStreamArn;
    expect(streamArn).toBeTruthy();
    await clients.dynamodb.send(
      new PutItemCommand({ TableName: table, Item: { pk: { S: 'one' }, n: { N: '1' } } }),
    );
    const described = await clients.dynamodbStreams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    const shardId = described.StreamDescription?.Shards?.[0]?.ShardId;
    const iterator = await clients.dynamodbStreams.send(
      new GetStreamIteratorCommand({
        StreamArn: streamArn,
        ShardId: shardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const records = await clients.dynamodbStreams.send(
      new GetStreamRecordsCommand({ ShardIterator: iterator.ShardIterator }),
    );
    expect(records.Records).toHaveLength(1);
    expect(records.Records?.[0]?.eventName).toBe('INSERT');
    expect(records.Records?.[0]?.dynamodb?.NewImage).toEqual({ pk: { S: 'one' }, n: { N: '1' } });
  });
});

describe('localAwsFromVitest', () => {
  it('gives the same endpoints as localAws() without importing vitest', async () => {
    const { localAwsFromVitest } = await import('../src/from-env.js');
    const fromEnv = localAwsFromVitest();
    expect(fromEnv.endpoints).toEqual(localAws().endpoints);
    await expect(fromEnv.clients.kinesis.send(new ListStreamsCommand({}))).resolves.toBeDefined();
    fromEnv.clients.destroy();
  });

  it('says how to configure the global setup when it is missing', async () => {
    const { localAwsFromVitest, LOCAL_ENDPOINTS_ENV } = await import('../src/from-env.js');
    const saved = process.env[LOCAL_ENDPOINTS_ENV];
    try {
      delete process.env[LOCAL_ENDPOINTS_ENV];
      expect(() => localAwsFromVitest()).toThrow(/globalSetup: \['@kinesis-archive\/local\/vitest'\]/);
      process.env[LOCAL_ENDPOINTS_ENV] = '{not json';
      expect(() => localAwsFromVitest()).toThrow(/not running/);
    } finally {
      process.env[LOCAL_ENDPOINTS_ENV] = saved;
    }
  });
});
