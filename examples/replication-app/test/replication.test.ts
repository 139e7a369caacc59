import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { type ReplicatedChange, startReplication } from '../src/replication.js';
import { ensureTargetTable } from '../src/tables.js';
import { createTable, scanAll } from './helpers.js';

const { clients } = localAws();
afterAll(() => clients.destroy());

async function eventually(check: () => Promise<void>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

const put = (table: string, pk: string, sk: string, n: string) =>
  clients.dynamodb.send(
    new PutItemCommand({
      TableName: table,
      // A number beyond 2^53 and a binary value: both must be copied exactly.
      Item: {
        pk: { S: pk },
        sk: { S: sk },
        n: { N: n },
        big: { N: '123456789012345678901234567890' },
        b: { B: new Uint8Array([0, 255, 7]) },
      },
    }),
  );

describe('startReplication', () => {
  it('copies a table, follows its changes, and resumes from the checkpoint after a restart', async () => {
    const source = uniqueName('orders');
    const target = `${source}-replica`;
    const checkpointTable = uniqueName('checkpoints');
    await createTable(clients.dynamodb, source);
    for (let i = 0; i < 60; i++) await put(source, `k${i % 7}`, `s${i}`, String(i));
    expect(await ensureTargetTable(clients.dynamodb, source, target)).toBe(true);

    const changes: ReplicatedChange[] = [];
    const errors: Error[] = [];
    const options = {
      dynamodb: clients.dynamodb,
      dynamodbStreams: clients.dynamodbStreams,
      sourceTable: source,
      targetTable: target,
      checkpointTable,
      pollIntervalMs: 100,
      onChange: (change: ReplicatedChange) => changes.push(change),
      onError: (error: Error) => {
        errors.push(error);
      },
    };

    // First start: scan, then follow.
    const first = await startReplication(options);
    expect(first.startedFrom).toBe('scan');
    expect(changes.filter((c) => c.origin === 'scan')).toHaveLength(60);
    expect(await scanAll(clients.dynamodb, target)).toEqual(await scanAll(clients.dynamodb, source));

    await put(source, 'k1', 's1', '1001');
    await clients.dynamodb.send(
      new DeleteItemCommand({ TableName: source, Key: { pk: { S: 'k2' }, sk: { S: 's2' } } }),
    );
    await put(source, 'new', 'one', '7');
    await eventually(async () => {
      expect(errors).toEqual([]);
      expect(await scanAll(clients.dynamodb, target)).toEqual(await scanAll(clients.dynamodb, source));
    });
    await first.stop();

    // Changes made while the app is down.
    const whileDown = 12;
    for (let i = 0; i < 10; i++) await put(source, 'down', `d${i}`, String(i));
    await clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: source,
        Key: { pk: { S: 'k3' }, sk: { S: 's3' } },
        UpdateExpression: 'SET n = :n',
        ExpressionAttributeValues: { ':n': { N: '-5' } },
      }),
    );
    await clients.dynamodb.send(
      new DeleteItemCommand({ TableName: source, Key: { pk: { S: 'k4' }, sk: { S: 's4' } } }),
    );
    expect(await scanAll(clients.dynamodb, target)).not.toEqual(await scanAll(clients.dynamodb, source));

    // Restart: resumes after the checkpoint, no scan, and delivers exactly the changes made while down.
    changes.length = 0;
    const second = await startReplication(options);
    expect(second.startedFrom).toBe('checkpoint');
    await eventually(async () => {
      expect(await scanAll(clients.dynamodb, target)).toEqual(await scanAll(clients.dynamodb, source));
    });
    await second.stop();
    expect(changes.every((c) => c.origin === 'stream')).toBe(true);
    expect(changes).toHaveLength(whileDown);
    expect(changes.map((c) => c.record?.eventName)).toEqual([
      ...Array(10).fill('INSERT'),
      'MODIFY',
      'REMOVE',
    ]);
    const copied = (await scanAll(clients.dynamodb, target)).find(
      (item) => item.pk === 'k1' && item.sk === 's1',
    );
    expect(String(copied?.big)).toBe('123456789012345678901234567890');
  });

  it('rejects a source table without a stream', async () => {
    const source = uniqueName('nostream');
    await createTable(clients.dynamodb, source, false);
    await expect(
      startReplication({
        dynamodb: clients.dynamodb,
        dynamodbStreams: clients.dynamodbStreams,
        sourceTable: source,
        targetTable: `${source}-replica`,
        checkpointTable: uniqueName('checkpoints'),
      }),
    ).rejects.toMatchObject({ code: 'REPLICA_CONFIG' });
  });
});
