import { NumberValueImpl } from '@aws-sdk/util-dynamodb';
import { uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ChangeRecord,
  type DataLossInfo,
  DynamoDBCheckpointStore,
  DynamoDBStream,
  exactNumbers,
  InMemoryCheckpointStore,
  type ShardState,
  type StreamChangedInfo,
  type StreamStatus,
  TableReplica,
} from '../src/index.js';
import { FakeDynamoDB } from './fake-dynamodb.js';
import { FakeStreams, makeRecord } from './fake-streams.js';

const { clients } = localAws();
afterAll(() => clients.destroy());

const OLD = 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-01-01T00:00:00.000';
const NEW = 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-06-01T00:00:00.000';

/** Counts the write commands a DynamoDB client sends. */
function countWrites(): { counts: Map<string, number>; stop(): void } {
  const counts = new Map<string, number>();
  const name = `count-${Math.random()}`;
  clients.dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? '?';
      counts.set(command, (counts.get(command) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name },
  );
  return { counts, stop: () => clients.dynamodb.middlewareStack.remove(name) };
}

describe('DynamoDBCheckpointStore: an item per shard', () => {
  it('saves and loads the state of 3,000 shards (a single item would pass 400 KB), writing only what moved', async () => {
    const tableName = uniqueName('cp');
    await DynamoDBCheckpointStore.createTable(clients.dynamodb, tableName);
    const state: ShardState = {};
    for (let i = 0; i < 3_000; i++) {
      const id = `shardId-00000001700000000000-${String(i).padStart(8, '0')}`;
      state[id] = {
        streamArn: NEW,
        parentShardId: `shardId-00000001600000000000-${String(i).padStart(8, '0')}`,
        sequenceNumber: `${400000000000000000000 + i * 1000}`,
        ...(i % 3 === 0 ? { closed: true } : {}),
      };
    }
    expect(JSON.stringify(state).length).toBeGreaterThan(400 * 1024);
    const store = new DynamoDBCheckpointStore({ client: clients.dynamodb, tableName, name: 'big' });
    expect(await store.load()).toBeUndefined();
    await store.save(state);
    expect(
      await new DynamoDBCheckpointStore({ client: clients.dynamodb, tableName, name: 'big' }).load(),
    ).toEqual(state);

    // One shard moves, one is dropped: one put and one delete, nothing else.
    const ids = Object.keys(state);
    const next: ShardState = {
      ...state,
      [ids[7]!]: { ...state[ids[7]!], sequenceNumber: '500000000000000000000' },
    };
    delete next[ids[8]!];
    const writes = countWrites();
    try {
      await store.save(next);
    } finally {
      writes.stop();
    }
    expect(Object.fromEntries(writes.counts)).toEqual({ PutItemCommand: 1, DeleteItemCommand: 1 });
    expect(
      await new DynamoDBCheckpointStore({ client: clients.dynamodb, tableName, name: 'big' }).load(),
    ).toEqual(next);
  }, 120_000);

  it('keeps checkpoints of different names apart', async () => {
    const tableName = uniqueName('cp');
    await DynamoDBCheckpointStore.createTable(clients.dynamodb, tableName);
    const a = new DynamoDBCheckpointStore({ client: clients.dynamodb, tableName, name: 'a' });
    const b = new DynamoDBCheckpointStore({ client: clients.dynamodb, tableName, name: 'b' });
    await a.load();
    await b.load();
    await a.save({ s: { sequenceNumber: '100000000000000000001' } });
    await b.save({ s: { sequenceNumber: '100000000000000000002' }, t: {} });
    expect(await a.load()).toEqual({ s: { sequenceNumber: '100000000000000000001' } });
    expect(await b.load()).toEqual({ s: { sequenceNumber: '100000000000000000002' }, t: {} });
  });
});

describe('the stream a state belongs to', () => {
  it('records its stream ARN in every shard it adds', async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    const stream = new DynamoDBStream({ client: fake, streamArn: NEW, retry: { baseDelayMs: 1 } });
    await stream.fetchStreamState();
    expect(stream.getShardState().s?.streamArn).toBe(NEW);
  });

  it('a state of an earlier stream (disabled, enabled again): an event, its undrained shards reported, the new one read from its oldest record', async () => {
    const fake = new FakeStreams();
    fake.addShard('new');
    fake.put('new', makeRecord('INSERT', 'a', { id: { S: 'a' } }));
    const store = new InMemoryCheckpointStore({
      old1: { streamArn: OLD, sequenceNumber: '100000000000000000001' },
      old2: { streamArn: OLD, retired: true },
    });
    const stream = new DynamoDBStream({
      client: fake,
      streamArn: NEW,
      checkpointStore: store,
      retry: { baseDelayMs: 1 },
    });
    const changed: StreamChangedInfo[] = [];
    const losses: DataLossInfo[] = [];
    const seen: ChangeRecord[] = [];
    stream.on('stream changed', (info) => changed.push(info));
    stream.on('data loss', (info) => losses.push(info));
    stream.on('record', (r) => {
      seen.push(r);
    });
    await stream.fetchStreamState();
    expect(changed).toEqual([{ previousStreamArn: OLD, streamArn: NEW }]);
    expect(losses).toEqual([
      { shardId: 'old1', reason: 'stream-replaced', lastSequenceNumber: '100000000000000000001' },
    ]);
    expect(seen.map((r) => r.keys.id)).toEqual(['a']);
    expect(Object.keys((await store.load()) ?? {})).toEqual(['new']);
    // Never read: the old stream's shards are not this stream's.
    expect(fake.count('GetShardIterator', 'old1')).toBe(0);
  });

  it("follows StreamStatus: a disabled stream is drained, with a 'stream status' event", async () => {
    const fake = new FakeStreams();
    const s = fake.addShard('s');
    fake.put('s', makeRecord('INSERT', 'a', { id: { S: 'a' } }));
    const stream = new DynamoDBStream({ client: fake, streamArn: NEW, retry: { baseDelayMs: 1 } });
    const statuses: StreamStatus[] = [];
    const removed: string[][] = [];
    stream.on('stream status', (status) => statuses.push(status));
    stream.on('remove shards', (ids) => removed.push(ids));
    await stream.fetchStreamState();
    fake.put('s', makeRecord('INSERT', 'b', { id: { S: 'b' } }));
    fake.status = 'DISABLED';
    s.closed = true; // disabling a stream closes its shards
    await stream.fetchStreamState();
    await stream.fetchStreamState();
    expect(statuses).toEqual(['ENABLED', 'DISABLED']);
    expect(removed).toEqual([['s']]);
    expect(stream.getShardState().s).toMatchObject({ retired: true, sequenceNumber: expect.any(String) });
  });
});

describe('followTable', () => {
  it('once the stream is disabled and drained, follows the table to its new stream, from its oldest record', async () => {
    const before = new FakeStreams();
    const s = before.addShard('s');
    before.put('s', makeRecord('INSERT', 'a', { id: { S: 'a' } }));
    const after = new FakeStreams();
    after.addShard('t');
    after.put('t', makeRecord('INSERT', 'b', { id: { S: 'b' } }));
    // One client for both streams, by ARN, as the service does.
    const client = {
      send: (command: { input: { StreamArn?: string; ShardIterator?: string } }) => {
        const arn = command.input.StreamArn;
        const iterator = command.input.ShardIterator;
        const useAfter = arn === NEW || iterator?.startsWith('t|') === true;
        return (useAfter ? after : before).send(command);
      },
    } as unknown as FakeStreams;
    const table = new FakeDynamoDB('t', OLD);
    const stream = new DynamoDBStream({
      client,
      streamArn: OLD,
      retry: { baseDelayMs: 1 },
      followTable: { dynamodb: table.client, tableName: 't' },
    });
    const changed: StreamChangedInfo[] = [];
    const seen: string[] = [];
    stream.on('stream changed', (info) => changed.push(info));
    stream.on('record', (r) => {
      seen.push(String(r.keys.id));
    });
    await stream.fetchStreamState();
    before.status = 'DISABLED';
    s.closed = true;
    await stream.fetchStreamState(); // drains 's'
    expect(changed).toEqual([]); // the table still names the old stream
    table.streamArn = NEW;
    await stream.fetchStreamState();
    await stream.fetchStreamState();
    expect(changed).toEqual([{ previousStreamArn: OLD, streamArn: NEW }]);
    expect(seen).toEqual(['a', 'b']);
    expect(stream.getShardState()).toEqual({ t: { streamArn: NEW, sequenceNumber: expect.any(String) } });
  });
});

describe('numbers beyond 2^53', () => {
  it('exactNumbers keeps a number when a double holds it, else a NumberValue with the exact digits', () => {
    expect(exactNumbers('42')).toBe(42);
    expect(exactNumbers('-1.5')).toBe(-1.5);
    expect(exactNumbers('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    for (const text of [
      '9007199254740993',
      '12345678901234567890123456789012345678',
      '0.12345678901234567890123',
    ]) {
      const value = exactNumbers(text);
      expect(value).toBeInstanceOf(NumberValueImpl);
      expect(String(value)).toBe(text);
    }
  });

  it('a change holding one is delivered exactly (the SDK default would fail it, and block the shard)', async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    fake.put('s', makeRecord('INSERT', 'a', { id: { S: 'a' }, n: { N: '12345678901234567890' } }));
    fake.put('s', makeRecord('INSERT', 'b', { id: { S: 'b' }, n: { N: '7' } }));
    const stream = new DynamoDBStream({ client: fake, streamArn: NEW, retry: { baseDelayMs: 1 } });
    const images: Record<string, unknown>[] = [];
    const errors: Error[] = [];
    stream.on('insert record', (image) => {
      images.push(image ?? {});
    });
    stream.on('error', (e) => errors.push(e));
    await stream.fetchStreamState();
    expect(errors).toEqual([]);
    expect(String(images[0]?.n)).toBe('12345678901234567890');
    expect(images[1]?.n).toBe(7);
  });

  it('a replica keeps them exact, from the scan and from the stream', async () => {
    const streams = new FakeStreams();
    streams.addShard('s');
    const table = new FakeDynamoDB('t', NEW);
    table.setItems([{ id: { S: 'a' }, n: { N: '98765432109876543210' } }]);
    let once = false;
    table.onScan = () => {
      if (once) return;
      once = true;
      streams.put('s', makeRecord('INSERT', 'b', { id: { S: 'b' }, n: { N: '12345678901234567890' } }));
    };
    const replica = new TableReplica({ dynamodb: table.client, streams, tableName: 't', segments: 1 });
    await replica.sync();
    expect(String(replica.items.get(replica.keyOf({ id: 'a' }))?.n)).toBe('98765432109876543210');
    expect(String(replica.items.get(replica.keyOf({ id: 'b' }))?.n)).toBe('12345678901234567890');
  });
});
