import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { RecordDecodeError, toDynamoDBStreamEventRecord } from '@kinesis-archive/dynamodb-stream';
import { uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { createReplicationHandler, UnapplicableChangeError } from '../src/lambda.js';
import { createTable, readStream, scanAll } from './helpers.js';

const { clients } = localAws();
const failures: unknown[] = [];
const onFailed = (_record: unknown, error: unknown) => failures.push(error);
afterAll(() => clients.destroy());

async function sourceWithChanges() {
  const source = uniqueName('repl-src');
  const streamArn = (await createTable(clients.dynamodb, source))!;
  const blob = new Uint8Array(256).map((_, i) => i);
  for (let i = 0; i < 20; i++) {
    await clients.dynamodb.send(
      new PutItemCommand({
        TableName: source,
        Item: {
          pk: { S: `k${i % 5}` },
          sk: { S: `s${i}` },
          n: { N: String(i) },
          blob: { B: blob },
          tags: { SS: ['a', 'b'] },
        },
      }),
    );
  }
  await clients.dynamodb.send(
    new UpdateItemCommand({
      TableName: source,
      Key: { pk: { S: 'k1' }, sk: { S: 's1' } },
      UpdateExpression: 'SET n = :n, nested = :m',
      ExpressionAttributeValues: {
        ':n': { N: '100' },
        ':m': { M: { list: { L: [{ B: blob }, { BOOL: true }] } } },
      },
    }),
  );
  await clients.dynamodb.send(
    new DeleteItemCommand({ TableName: source, Key: { pk: { S: 'k2' }, sk: { S: 's2' } } }),
  );
  const records = (await readStream(clients.dynamodbStreams, streamArn)).map((r) =>
    toDynamoDBStreamEventRecord(r, { eventSourceARN: streamArn }),
  );
  return { source, records };
}

describe('replication Lambda handler', () => {
  it('applies inserts, updates and deletes so the target equals the source (binary attributes byte-exact)', async () => {
    const { source, records } = await sourceWithChanges();
    expect(records).toHaveLength(22);
    const target = uniqueName('repl-dst');
    await createTable(clients.dynamodb, target, false);
    const handler = createReplicationHandler({ dynamodb: clients.dynamodb, targetTable: target, onFailed });

    // Two Lambda batches, as the event source mapping would deliver them.
    expect(await handler({ Records: records.slice(0, 10) })).toEqual({ batchItemFailures: [] });
    expect(await handler({ Records: records.slice(10) })).toEqual({ batchItemFailures: [] });

    const copy = await scanAll(clients.dynamodb, target);
    expect(copy).toHaveLength(19);
    expect(copy).toEqual(await scanAll(clients.dynamodb, source));
  });

  it('reports the first change it cannot apply and applies nothing after it', async () => {
    const { records } = await sourceWithChanges();
    const target = uniqueName('repl-dst');
    await createTable(clients.dynamodb, target, false);
    const applied: string[] = [];
    const handler = createReplicationHandler({
      dynamodb: clients.dynamodb,
      targetTable: target,
      onFailed,
      onApplied: (record) => applied.push(record.dynamodb!.SequenceNumber!),
    });
    // A KEYS_ONLY-like record in the middle of the batch: it has no new image to put.
    const broken = structuredClone(records[5]!);
    delete broken.dynamodb!.NewImage;
    const batch = [...records.slice(0, 5), broken, ...records.slice(6, 10)];

    const response = await handler({ Records: batch });

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: broken.dynamodb!.SequenceNumber }]);
    expect(failures.at(-1)).toBeInstanceOf(UnapplicableChangeError);
    expect(applied).toEqual(records.slice(0, 5).map((r) => r.dynamodb!.SequenceNumber));
    expect(await scanAll(clients.dynamodb, target)).toHaveLength(5);
  });

  it('reports the first record of the batch when the target table does not exist', async () => {
    const { records } = await sourceWithChanges();
    const handler = createReplicationHandler({
      dynamodb: clients.dynamodb,
      targetTable: uniqueName('missing'),
      onFailed,
    });
    const response = await handler({ Records: records.slice(0, 3) });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[0]!.dynamodb!.SequenceNumber }]);
  });

  it('fails the whole batch for a record without a sequence number', async () => {
    const handler = createReplicationHandler({
      dynamodb: clients.dynamodb,
      targetTable: uniqueName('any'),
      onFailed,
    });
    await expect(handler({ Records: [{ eventName: 'INSERT', dynamodb: {} }] })).rejects.toBeInstanceOf(
      RecordDecodeError,
    );
  });
});
