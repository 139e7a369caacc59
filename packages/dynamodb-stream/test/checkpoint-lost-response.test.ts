import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { createLocalClients, uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointConflictError, DynamoDBCheckpointStore } from '../src/index.js';

const { clients, endpoints } = localAws();
afterAll(() => clients.destroy());

/** A DynamoDB client whose next PutItem is applied by DynamoDB Local but whose answer is lost (a reset socket). */
function losingClient(maxAttempts: number) {
  const local = createLocalClients(endpoints, { maxAttempts });
  const state = { armed: 0 };
  local.dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      if (context.commandName === 'PutItemCommand' && state.armed > 0) {
        state.armed--;
        throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' });
      }
      return out;
    },
    { step: 'deserialize', name: 'loseAnswer' },
  );
  return { local, state };
}

describe('DynamoDBCheckpointStore when a save was applied but its answer was lost', () => {
  it('an SDK retry of the applied save is not a conflict', async () => {
    const tableName = uniqueName('cp');
    await DynamoDBCheckpointStore.createTable(clients.dynamodb, tableName);
    const { local, state } = losingClient(3);
    try {
      const store = new DynamoDBCheckpointStore({ client: local.dynamodb, tableName, name: 'c' });
      expect(await store.load()).toBeUndefined();
      state.armed = 1; // first save: applied, answer lost, retried by the SDK
      await store.save({ s: { sequenceNumber: '100' } });
      await store.save({ s: { sequenceNumber: '200' } });
      state.armed = 1; // a later save too
      await store.save({ s: { sequenceNumber: '300' } });
      await store.save({ s: { sequenceNumber: '400' } });
      expect(
        await new DynamoDBCheckpointStore({ client: clients.dynamodb, tableName, name: 'c' }).load(),
      ).toEqual({ s: { sequenceNumber: '400' } });
    } finally {
      local.destroy();
    }
  });

  it('a save after one that failed on the caller side but was applied is not a conflict', async () => {
    const tableName = uniqueName('cp');
    await DynamoDBCheckpointStore.createTable(clients.dynamodb, tableName);
    const { local, state } = losingClient(1);
    try {
      const store = new DynamoDBCheckpointStore({ client: local.dynamodb, tableName, name: 'c' });
      await store.load();
      await store.save({ s: { sequenceNumber: '100' } });
      state.armed = 1;
      await expect(store.save({ s: { sequenceNumber: '200' } })).rejects.toThrow('socket hang up');
      await store.save({ s: { sequenceNumber: '300' } }); // the consumer's retry after its next poll
      expect(
        await new DynamoDBCheckpointStore({ client: clients.dynamodb, tableName, name: 'c' }).load(),
      ).toEqual({ s: { sequenceNumber: '300' } });
    } finally {
      local.destroy();
    }
  });

  it('still refuses a save over another consumer s checkpoint', async () => {
    const tableName = uniqueName('cp');
    await DynamoDBCheckpointStore.createTable(clients.dynamodb, tableName);
    const options = { client: clients.dynamodb, tableName, name: 'c' };
    const a = new DynamoDBCheckpointStore(options);
    const b = new DynamoDBCheckpointStore(options);
    await a.load();
    await b.load();
    await a.save({ s: { sequenceNumber: '100' } });
    await expect(b.save({ s: { sequenceNumber: '100' } })).rejects.toBeInstanceOf(CheckpointConflictError);
    // An item written without a writer tag (by hand, or another tool) is another consumer's too.
    await clients.dynamodb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { name: { S: 'c' }, shardId: { S: 's' }, sequenceNumber: { S: '150' }, version: { N: '7' } },
      }),
    );
    await expect(a.save({ s: { sequenceNumber: '200' } })).rejects.toBeInstanceOf(CheckpointConflictError);
  });
});
