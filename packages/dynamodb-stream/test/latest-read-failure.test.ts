import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { createLocalClients, startFaultProxy } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { type ChangeRecord, DynamoDBStream, ShardReadError } from '../src/index.js';
import { createStreamTable } from './tables.js';

const { clients, endpoints } = localAws();
afterAll(() => clients.destroy());

describe('a LATEST start whose read fails before any record', () => {
  it('does not re-open at LATEST after the failure (changes written in between are delivered)', async () => {
    const { tableName, streamArn } = await createStreamTable(clients.dynamodb);
    await clients.dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { id: { S: 'before' } } }));
    const proxy = await startFaultProxy({ target: endpoints.dynamodb!, seed: 1 });
    const proxied = createLocalClients(
      { region: endpoints.region, dynamodb: proxy.endpoint },
      { maxAttempts: 1 },
    );
    try {
      const stream = new DynamoDBStream({
        client: proxied.dynamodbStreams,
        streamArn,
        startingPosition: 'LATEST',
        retry: { baseDelayMs: 1, maxAttempts: 2 },
      });
      const seen: ChangeRecord[] = [];
      const errors: Error[] = [];
      stream.on('record', (r) => {
        seen.push(r);
      });
      stream.on('error', (e) => errors.push(e));

      await stream.fetchStreamState(); // opens the shard at LATEST, nothing new yet
      expect(seen).toEqual([]);
      for (const id of ['a', 'b']) {
        await clients.dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { id: { S: id } } }));
      }
      // GetRecords fails past the retries (500s): the poll reports it.
      proxy.setRules([{ operation: 'GetRecords', fault: 'internal', probability: 1 }]);
      await stream.fetchStreamState();
      expect(errors.some((e) => e instanceof ShardReadError)).toBe(true);
      proxy.setRules([]);
      await clients.dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { id: { S: 'c' } } }));
      for (let i = 0; i < 3; i++) await stream.fetchStreamState();

      // The changes made after the LATEST start are all delivered, in order; 'before' may repeat, never lose.
      const ids = seen.map((r) => r.keys.id).filter((id) => id !== 'before');
      expect(ids).toEqual(['a', 'b', 'c']);
    } finally {
      proxied.destroy();
      await proxy.stop();
    }
  });
});
