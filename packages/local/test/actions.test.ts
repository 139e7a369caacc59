import { DescribeTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { iamActionOf, recordActions } from '../src/actions.js';
import { createLocalClients } from '../src/clients.js';
import { localAws } from '../src/vitest-setup.js';

describe('recordActions', () => {
  it('records the IAM action of every request, answered or refused, until stopped', async () => {
    const { endpoints } = localAws();
    const clients = createLocalClients(endpoints);
    const streams = new DynamoDBStreamsClient({
      region: endpoints.region,
      endpoint: endpoints.dynamodb,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const recorder = recordActions(clients.kinesis, clients.dynamodb, streams);
      await clients.kinesis.send(new ListStreamsCommand({}));
      await clients.dynamodb.send(new ListTablesCommand({}));
      await clients.dynamodb.send(new ListTablesCommand({}));
      await expect(
        clients.dynamodb.send(new DescribeTableCommand({ TableName: 'no-such-table' })),
      ).rejects.toThrow();
      await expect(
        streams.send(
          new DescribeStreamCommand({
            StreamArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/x/stream/y',
          }),
        ),
      ).rejects.toThrow();
      recorder.stop();
      await clients.kinesis.send(new ListStreamsCommand({ Limit: 1 }));
      expect(recorder.actions()).toEqual([
        'dynamodb:DescribeStream',
        'dynamodb:DescribeTable',
        'dynamodb:ListTables',
        'kinesis:ListStreams',
      ]);
      // Stopped means removed: a second recorder sees only its own requests, and stop is idempotent.
      recorder.stop();
      const second = recordActions(clients.kinesis);
      await clients.kinesis.send(new ListStreamsCommand({ Limit: 1 }));
      await clients.dynamodb.send(new ListTablesCommand({}));
      second.stop();
      expect(second.actions()).toEqual(['kinesis:ListStreams']);
    } finally {
      clients.destroy();
      streams.destroy();
    }
  });

  it('names actions by service prefix and command', () => {
    expect(iamActionOf('KinesisClient', 'PutRecordsCommand')).toBe('kinesis:PutRecords');
    expect(iamActionOf('DynamoDBClient', 'BatchWriteItemCommand')).toBe('dynamodb:BatchWriteItem');
    expect(iamActionOf('DynamoDBStreamsClient', 'GetRecordsCommand')).toBe('dynamodb:GetRecords');
    expect(iamActionOf('SQSClient', 'SendMessageCommand')).toBe('sqs:SendMessage');
  });
});
