import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { toDynamoDBStreamEventRecord } from '@kinesis-archive/dynamodb-stream';
import { createLocalClients, recordActions, startFaultProxy, uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, expect, it } from 'vitest';
import { createReplicationHandler } from '../src/lambda.js';
import { replicationActions } from '../src/permissions.js';
import { createTable, readStream } from './helpers.js';

const { clients, endpoints } = localAws();
afterAll(() => clients.destroy());

it('the replication handler sends exactly the IAM actions listed next to it', async () => {
  const source = uniqueName('repl-src');
  const streamArn = (await createTable(clients.dynamodb, source))!;
  for (let i = 0; i < 6; i++) {
    await clients.dynamodb.send(
      new PutItemCommand({
        TableName: source,
        Item: { pk: { S: `k${i % 3}` }, sk: { S: 's' }, n: { N: `${i}` } },
      }),
    );
  }
  await clients.dynamodb.send(
    new DeleteItemCommand({ TableName: source, Key: { pk: { S: 'k0' }, sk: { S: 's' } } }),
  );
  const records = (await readStream(clients.dynamodbStreams, streamArn)).map((r) =>
    toDynamoDBStreamEventRecord(r, { eventSourceARN: streamArn }),
  );
  const target = uniqueName('repl-dst');
  await createTable(clients.dynamodb, target, false);
  // The handler's own client (only what it sends is recorded), through a proxy that throttles its first write.
  const proxy = await startFaultProxy({
    target: endpoints.dynamodb!,
    seed: 5,
    rules: [{ operation: 'PutItem', fault: 'throttle', at: [1] }],
  });
  const own = createLocalClients({ region: endpoints.region, dynamodb: proxy.endpoint }, { maxAttempts: 1 });
  const recorder = recordActions(own.dynamodb);
  try {
    const handler = createReplicationHandler({ dynamodb: own.dynamodb, targetTable: target });
    expect(await handler({ Records: records })).toEqual({ batchItemFailures: [] });
    expect(proxy.counts().injected).toMatchObject({ throttle: 1 });
  } finally {
    recorder.stop();
    own.destroy();
    await proxy.stop();
  }
  expect(recorder.actions()).toEqual([...replicationActions].sort());
});
