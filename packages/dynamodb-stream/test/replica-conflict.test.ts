import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CheckpointConflictError,
  DynamoDBCheckpointStore,
  type ReplicaChange,
  TableReplica,
} from '../src/index.js';
import { createStreamTable } from './tables.js';

const { clients } = localAws();
afterAll(() => clients.destroy());

const put = (tableName: string, id: string) =>
  clients.dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { id: { S: id } } }));

describe('two replicas with the same checkpoint name', () => {
  it('the one that loses the checkpoint race stops and applies nothing more, even when started', async () => {
    const { tableName } = await createStreamTable(clients.dynamodb);
    await put(tableName, 'seed');
    const checkpointTable = uniqueName('ckpt');
    await DynamoDBCheckpointStore.createTable(clients.dynamodb, checkpointTable);
    const store = () =>
      new DynamoDBCheckpointStore({ client: clients.dynamodb, tableName: checkpointTable, name: 'replica' });
    const appliedA: string[] = [];
    const appliedB: string[] = [];
    const replica = (log: string[]) =>
      new TableReplica({
        dynamodb: clients.dynamodb,
        streams: clients.dynamodbStreams,
        tableName,
        checkpointStore: store(),
        apply: (change: ReplicaChange) => {
          log.push(String(change.keys.id));
        },
      });

    const a = replica(appliedA);
    await a.sync();
    await put(tableName, 'x0');
    await a.catchUp(); // A saves a checkpoint
    const b = replica(appliedB);
    await b.sync(); // B resumes from A's checkpoint
    expect(b.startedFrom).toBe('checkpoint');
    const errors: Error[] = [];
    b.stream!.on('error', (e) => errors.push(e));

    await put(tableName, 'x1');
    await a.catchUp(); // A saves again
    // B applies x1, then its save conflicts: the catch-up rejects with it
    await expect(b.catchUp()).rejects.toBeInstanceOf(CheckpointConflictError);
    expect(appliedB).toEqual(['x1']);

    await put(tableName, 'x2');
    b.start({ pollIntervalMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await b.stop();
    await expect(b.catchUp()).rejects.toBeInstanceOf(CheckpointConflictError);
    expect(appliedB).toEqual(['x1']); // stopped: x2 is the owner's to apply
    expect(errors.some((e) => e instanceof CheckpointConflictError)).toBe(true); // start() reported it
    await a.catchUp();
    expect(appliedA.slice(-3)).toEqual(['x0', 'x1', 'x2']);
  });
});
