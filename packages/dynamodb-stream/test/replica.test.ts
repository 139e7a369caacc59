import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { type Image, type ReplicaChange, ReplicaConfigError, TableReplica } from '../src/index.js';
import { createStreamTable, randomWrites, scanTable } from './tables.js';

const { clients } = localAws();
afterAll(() => clients.destroy());

async function seed(tableName: string, n: number): Promise<void> {
  for (let start = 0; start < n; start += 25) {
    const items = Array.from({ length: Math.min(25, n - start) }, (_, i) => ({
      PutRequest: { Item: { id: { S: `item-${start + i}` }, v: { N: String(-1) }, seeded: { BOOL: true } } },
    }));
    await clients.dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: items } }));
  }
}

const asObject = (map: Map<string, Image>) =>
  new Map([...map.values()].map((item) => [String(item.id), item] as const));

describe('TableReplica', () => {
  it('scans, then follows the stream from its bookmark to an exact copy, with writes during the scan', async () => {
    const { tableName } = await createStreamTable(clients.dynamodb);
    await seed(tableName, 400);
    const replica = new TableReplica({
      dynamodb: clients.dynamodb,
      streams: clients.dynamodbStreams,
      tableName,
      segments: 3,
    });
    const during = randomWrites(clients.dynamodb, tableName, 300, { seed: 5, keys: 450 });
    await replica.sync();
    replica.start({ pollIntervalMs: 50 });
    await during;
    await randomWrites(clients.dynamodb, tableName, 300, { seed: 6, keys: 450 });
    await replica.stop();
    await replica.catchUp();
    expect(asObject(replica.items)).toEqual(await scanTable(clients.dynamodb, tableName));
    expect(replica.items.size).toBeGreaterThan(300);
  });

  it('feeds an apply callback instead of the Map', async () => {
    const { tableName } = await createStreamTable(clients.dynamodb, { view: 'NEW_IMAGE' });
    await seed(tableName, 30);
    const copy = new Map<string, Image>();
    const changes: ReplicaChange[] = [];
    const replica = new TableReplica({
      dynamodb: clients.dynamodb,
      streams: clients.dynamodbStreams,
      tableName,
      apply: async (change) => {
        changes.push(change);
        if (change.type === 'put') copy.set(String(change.keys.id), change.item);
        else copy.delete(String(change.keys.id));
      },
    });
    await replica.sync();
    await randomWrites(clients.dynamodb, tableName, 60, { seed: 9, keys: 40 });
    await replica.catchUp();
    expect(replica.items.size).toBe(0);
    expect(changes.filter((c) => c.record === undefined)).toHaveLength(30); // the scan
    expect(copy).toEqual(await scanTable(clients.dynamodb, tableName));
  });

  it('refuses a table whose stream carries no new images', async () => {
    const { tableName } = await createStreamTable(clients.dynamodb, { view: 'KEYS_ONLY' });
    const replica = new TableReplica({
      dynamodb: clients.dynamodb,
      streams: clients.dynamodbStreams,
      tableName,
    });
    await expect(replica.sync()).rejects.toBeInstanceOf(ReplicaConfigError);
    expect(() => replica.start()).toThrow(ReplicaConfigError);
  });
});
