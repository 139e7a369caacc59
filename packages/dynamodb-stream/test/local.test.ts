import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ChangeRecord,
  CheckpointConflictError,
  DynamoDBCheckpointStore,
  DynamoDBStream,
  type Image,
  InMemoryCheckpointStore,
  InvalidShardStateError,
} from '../src/index.js';
import { createStreamTable, randomWrites, scanTable } from './tables.js';

const { clients } = localAws();
afterAll(() => clients.destroy());

/** Applies changes to a Map, the simplest replica. */
function follow(stream: DynamoDBStream, replica = new Map<string, Image>(), seen: string[] = []) {
  stream.on('insert record', (image, keys) => {
    replica.set(String(keys.id), image!);
  });
  stream.on('modify record', (image, _old, keys) => {
    replica.set(String(keys.id), image!);
  });
  stream.on('remove record', (_old, keys) => {
    replica.delete(String(keys.id));
  });
  stream.on('record', (r) => {
    seen.push(r.sequenceNumber);
  });
  return { replica, seen };
}

/** Polls until the stream's state stops moving. */
async function drain(stream: DynamoDBStream): Promise<void> {
  let before = '';
  for (let i = 0; i < 200; i++) {
    await stream.fetchStreamState();
    const now = JSON.stringify(stream.getShardState());
    if (now === before) return;
    before = now;
  }
}

describe('against DynamoDB Local', () => {
  it('keeps a replica equal to the table through 2,000 random puts, updates and deletes', async () => {
    const { tableName, streamArn } = await createStreamTable(clients.dynamodb);
    const stream = new DynamoDBStream({ client: clients.dynamodbStreams, streamArn });
    const errors: Error[] = [];
    stream.on('error', (e) => errors.push(e));
    const { replica, seen } = follow(stream);
    stream.start({ pollIntervalMs: 50 });
    await randomWrites(clients.dynamodb, tableName, 2_000, { seed: 7 });
    await stream.stop();
    await drain(stream);
    expect(errors).toEqual([]);
    const table = await scanTable(clients.dynamodb, tableName);
    expect(table.size).toBeGreaterThan(50);
    expect(replica).toEqual(table);
    expect(new Set(seen).size).toBe(seen.length); // no change delivered twice
  });

  it('stops and restarts from the saved checkpoint half-way, after a delay, with nothing lost or repeated', async () => {
    const { tableName, streamArn } = await createStreamTable(clients.dynamodb);
    const checkpointTable = `${tableName}-cp`;
    await DynamoDBCheckpointStore.createTable(clients.dynamodb, checkpointTable);
    const store = () =>
      new DynamoDBCheckpointStore({ client: clients.dynamodb, tableName: checkpointTable, name: 'replica' });
    const replica = new Map<string, Image>();
    const seen: string[] = [];

    const first = new DynamoDBStream({
      client: clients.dynamodbStreams,
      streamArn,
      checkpointStore: store(),
    });
    follow(first, replica, seen);
    first.start({ pollIntervalMs: 50 });
    await randomWrites(clients.dynamodb, tableName, 600, { seed: 11 });
    await first.stop();
    const half = seen.length;
    expect(half).toBeGreaterThan(0);

    await randomWrites(clients.dynamodb, tableName, 600, { seed: 12 });
    await new Promise((r) => setTimeout(r, 1_000));

    const second = new DynamoDBStream({
      client: clients.dynamodbStreams,
      streamArn,
      checkpointStore: store(),
    });
    follow(second, replica, seen);
    await drain(second);
    await second.stop();
    expect(seen.length).toBeGreaterThan(half);
    expect(new Set(seen).size).toBe(seen.length);
    // Exactly what a fresh consumer reading the whole stream sees (deletes of missing items make no record).
    const all: string[] = [];
    const fresh = new DynamoDBStream({ client: clients.dynamodbStreams, streamArn });
    follow(fresh, new Map(), all);
    await drain(fresh);
    expect(seen).toEqual(all);
    expect(replica).toEqual(await scanTable(clients.dynamodb, tableName));
  });

  it('refuses a second consumer overwriting the same checkpoint, and stops on the conflict', async () => {
    const { tableName, streamArn } = await createStreamTable(clients.dynamodb);
    const checkpointTable = `${tableName}-cp`;
    await DynamoDBCheckpointStore.createTable(clients.dynamodb, checkpointTable);
    const options = { client: clients.dynamodb, tableName: checkpointTable, name: 'shared' };
    const a = new DynamoDBCheckpointStore(options);
    const b = new DynamoDBCheckpointStore(options);
    expect(await a.load()).toBeUndefined();
    expect(await b.load()).toBeUndefined();
    await a.save({ s: { sequenceNumber: '100' } });
    await expect(b.save({ s: { sequenceNumber: '50' } })).rejects.toBeInstanceOf(CheckpointConflictError);
    expect(await new DynamoDBCheckpointStore(options).load()).toEqual({ s: { sequenceNumber: '100' } });
    await a.save({ s: { sequenceNumber: '200' } }); // the owner goes on

    // A stream whose store lost the race reports the conflict and stops.
    await clients.dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { id: { S: 'x' } } }));
    const stale = new DynamoDBCheckpointStore(options);
    const stream = new DynamoDBStream({ client: clients.dynamodbStreams, streamArn, checkpointStore: stale });
    const errors: Error[] = [];
    stream.on('error', (e) => errors.push(e));
    let shardId = '';
    stream.on('record', async (record) => {
      shardId = record.shardId;
      // The other consumer saves this shard meanwhile.
      const other = new DynamoDBCheckpointStore(options);
      const state = await other.load();
      await other.save({ ...state, [shardId]: { sequenceNumber: '300' } });
    });
    stream.start({ pollIntervalMs: 20 });
    for (let i = 0; i < 250 && stream.phase !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 20));
    expect(stream.phase).toBe('stopped'); // the conflict stopped it
    await stream.stop();
    expect(errors.filter((e) => e instanceof CheckpointConflictError)).toHaveLength(1);
    const saved = await new DynamoDBCheckpointStore(options).load();
    expect(saved?.[shardId]?.sequenceNumber).toBe('300');
  });

  it('rejects a corrupt saved checkpoint without reading or crashing, and reads once it is fixed', async () => {
    const { tableName, streamArn } = await createStreamTable(clients.dynamodb);
    const checkpointTable = `${tableName}-cp`;
    await DynamoDBCheckpointStore.createTable(clients.dynamodb, checkpointTable);
    await clients.dynamodb.send(
      new PutItemCommand({
        TableName: checkpointTable,
        Item: {
          name: { S: 'old' },
          shardId: { S: 's' },
          shardIterator: { S: 'arn:...' }, // the iterator-based state of other libraries
          version: { N: '1' },
        },
      }),
    );
    await clients.dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { id: { S: 'x' } } }));
    const store = new DynamoDBCheckpointStore({
      client: clients.dynamodb,
      tableName: checkpointTable,
      name: 'old',
    });
    await expect(store.load()).rejects.toBeInstanceOf(InvalidShardStateError);
    const stream = new DynamoDBStream({ client: clients.dynamodbStreams, streamArn, checkpointStore: store });
    const errors: Error[] = [];
    const ids: unknown[] = [];
    stream.on('error', (e) => errors.push(e));
    stream.on('record', (r) => {
      ids.push(r.keys.id);
    });
    await stream.fetchStreamState();
    expect(errors[0]).toBeInstanceOf(InvalidShardStateError);
    expect(ids).toEqual([]);
    stream.setShardState({});
    await drain(stream);
    expect(ids).toEqual(['x']);
  });

  it('delivers TTL deletes as removes flagged ttlDelete', async () => {
    const { tableName, streamArn } = await createStreamTable(clients.dynamodb, { ttlAttribute: 'expiresAt' });
    const past = Math.floor(Date.now() / 1000) - 60;
    await clients.dynamodb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { id: { S: 'old' }, expiresAt: { N: String(past) } },
      }),
    );
    await clients.dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { id: { S: 'keep' } } }));
    const stream = new DynamoDBStream({ client: clients.dynamodbStreams, streamArn });
    const removes: ChangeRecord[] = [];
    stream.on('remove record', (_old, _keys, record) => {
      removes.push(record);
    });
    stream.start({ pollIntervalMs: 200 });
    for (let i = 0; i < 450 && removes.length === 0; i++) await new Promise((r) => setTimeout(r, 200));
    await stream.stop();
    expect(removes).toHaveLength(1);
    expect(removes[0]).toMatchObject({ ttlDelete: true, keys: { id: 'old' }, eventName: 'REMOVE' });
    expect(removes[0]!.oldImage).toEqual({ id: 'old', expiresAt: past });
  }, 120_000);

  it('starts at LATEST only on the very first start', async () => {
    const { tableName, streamArn } = await createStreamTable(clients.dynamodb);
    await clients.dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { id: { S: 'before' } } }));
    const store = new InMemoryCheckpointStore();
    const stream = new DynamoDBStream({
      client: clients.dynamodbStreams,
      streamArn,
      startingPosition: 'LATEST',
      checkpointStore: store,
    });
    const ids: unknown[] = [];
    stream.on('record', (r) => {
      ids.push(r.keys.id);
    });
    await stream.bookmark();
    await clients.dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { id: { S: 'after' } } }));
    await drain(stream);
    expect(ids).toEqual(['after']);
    await clients.dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { id: { S: 'later' } } }));
    const restarted = new DynamoDBStream({
      client: clients.dynamodbStreams,
      streamArn,
      startingPosition: 'LATEST',
      checkpointStore: store,
    });
    restarted.on('record', (r) => {
      ids.push(r.keys.id);
    });
    await drain(restarted);
    expect(ids).toEqual(['after', 'later']);
  });
});
