import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { compareSequenceNumbers } from '@kinesis-archive/core';
import { uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DynamoDBCheckpointStore,
  DynamoDBStream,
  type Image,
  InMemoryCheckpointStore,
  type ReplicaChange,
  ReplicaConfigError,
  TableReplica,
} from '../src/index.js';
import { createStreamTable, randomWrites, scanTable } from './tables.js';

const { clients } = localAws();
afterAll(() => clients.destroy());

async function seed(tableName: string, n: number): Promise<void> {
  for (let start = 0; start < n; start += 25) {
    const items = Array.from({ length: Math.min(25, n - start) }, (_, i) => ({
      PutRequest: { Item: { id: { S: `item-${start + i}` }, v: { N: '-1' } } },
    }));
    await clients.dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: items } }));
  }
}

/** Every sequence number the stream holds now, read from TRIM_HORIZON by a separate consumer. */
async function allSequenceNumbers(streamArn: string): Promise<string[]> {
  const stream = new DynamoDBStream({ client: clients.dynamodbStreams, streamArn });
  const seen: string[] = [];
  stream.on('record', (r) => {
    seen.push(r.sequenceNumber);
  });
  let before = '';
  for (;;) {
    await stream.fetchStreamState();
    const now = JSON.stringify(stream.getShardState());
    if (now === before) return seen;
    before = now;
  }
}

/** A durable target outside the replica (it survives the replica's restart), with a log of what was applied. */
function durableTarget() {
  const copy = new Map<string, Image>();
  const streamLog: { key: string; sequenceNumber: string }[] = [];
  const scanned: string[] = [];
  const apply = async (change: ReplicaChange): Promise<void> => {
    const key = String(change.keys.id);
    if (change.record) streamLog.push({ key, sequenceNumber: change.record.sequenceNumber });
    else scanned.push(key);
    if (change.type === 'put') copy.set(key, change.item);
    else copy.delete(key);
  };
  return { copy, streamLog, scanned, apply };
}

async function checkpointStore(): Promise<() => DynamoDBCheckpointStore> {
  const tableName = uniqueName('ckpt');
  await DynamoDBCheckpointStore.createTable(clients.dynamodb, tableName);
  // A new store object per run, as a restarted process would have.
  return () => new DynamoDBCheckpointStore({ client: clients.dynamodb, tableName, name: 'replica' });
}

describe('TableReplica with a checkpoint store', () => {
  it('stops half-way and resumes from the checkpoint without a scan: nothing lost, repeated or reordered', async () => {
    const { tableName, streamArn } = await createStreamTable(clients.dynamodb);
    await seed(tableName, 100);
    await randomWrites(clients.dynamodb, tableName, 100, { seed: 11, keys: 120 });
    const beforeBookmark = new Set(await allSequenceNumbers(streamArn));
    const newStore = await checkpointStore();
    const target = durableTarget();
    const options = {
      dynamodb: clients.dynamodb,
      streams: clients.dynamodbStreams,
      tableName,
      apply: target.apply,
    };

    const first = new TableReplica({ ...options, checkpointStore: newStore() });
    await first.sync();
    expect(first.startedFrom).toBe('scan');
    first.start({ pollIntervalMs: 50 });
    await randomWrites(clients.dynamodb, tableName, 300, { seed: 12, keys: 150 });
    await first.stop();
    const scannedFirst = target.scanned.length;
    expect(scannedFirst).toBeGreaterThan(50);
    const saved = await newStore().load();
    expect(Object.values(saved ?? {}).some((p) => p.sequenceNumber !== undefined)).toBe(true);

    // Changes while the replica is down, then a restart from the store.
    await randomWrites(clients.dynamodb, tableName, 200, { seed: 13, keys: 150 });
    const second = new TableReplica({ ...options, checkpointStore: newStore() });
    await second.sync();
    expect(second.startedFrom).toBe('checkpoint');
    second.start({ pollIntervalMs: 50 });
    await randomWrites(clients.dynamodb, tableName, 200, { seed: 14, keys: 150 });
    await second.stop();
    await second.catchUp();

    expect(target.scanned).toHaveLength(scannedFirst); // no second scan
    expect(target.copy).toEqual(await scanTable(clients.dynamodb, tableName));
    // Exactly the stream's changes after the bookmark, each once, in order per item.
    const after = (await allSequenceNumbers(streamArn)).filter((s) => !beforeBookmark.has(s));
    const applied = target.streamLog.map((e) => e.sequenceNumber);
    expect([...applied].sort(compareSequenceNumbers)).toEqual([...after].sort(compareSequenceNumbers));
    expect(after.length).toBeGreaterThan(500); // 700 writes, less deletes of missing items (no record)
    const last = new Map<string, string>();
    for (const { key, sequenceNumber } of target.streamLog) {
      const previous = last.get(key);
      if (previous !== undefined) expect(compareSequenceNumbers(sequenceNumber, previous)).toBeGreaterThan(0);
      last.set(key, sequenceNumber);
    }
  });

  it('saves no checkpoint while the bookmark has no sequence number: a restart scans again', async () => {
    const { tableName, streamArn } = await createStreamTable(clients.dynamodb);
    await seed(tableName, 20);
    const store = new InMemoryCheckpointStore();
    const target = durableTarget();
    const options = {
      dynamodb: clients.dynamodb,
      streams: clients.dynamodbStreams,
      tableName,
      apply: target.apply,
      checkpointStore: store,
    };

    const first = new TableReplica(options);
    await first.sync();
    first.start({ pollIntervalMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await first.stop();
    expect(await store.load()).toBeUndefined();
    expect(store.saves).toBe(0);

    // Restart: no checkpoint, so a new bookmark and scan; the seed's stream records are never replayed.
    const second = new TableReplica(options);
    await second.sync();
    expect(second.startedFrom).toBe('scan');
    expect(target.scanned).toHaveLength(40);
    await randomWrites(clients.dynamodb, tableName, 10, { seed: 3, keys: 20 });
    await second.catchUp();
    expect(target.streamLog).toHaveLength(10);
    const before = new Set((await allSequenceNumbers(streamArn)).slice(0, 20));
    expect(target.streamLog.filter((e) => before.has(e.sequenceNumber))).toEqual([]);
    const saved = await store.load();
    expect(Object.values(saved ?? {}).every((p) => p.retired || p.sequenceNumber !== undefined)).toBe(true);
    expect(target.copy).toEqual(await scanTable(clients.dynamodb, tableName));

    // From now on a restart resumes from the checkpoint.
    const third = new TableReplica(options);
    await third.sync();
    expect(third.startedFrom).toBe('checkpoint');
    expect(target.scanned).toHaveLength(40);
  });

  it('refuses a checkpoint store without an apply callback (the in-memory copy would not survive)', () => {
    expect(
      () =>
        new TableReplica({
          dynamodb: clients.dynamodb,
          streams: clients.dynamodbStreams,
          tableName: 't',
          checkpointStore: new InMemoryCheckpointStore(),
        }),
    ).toThrow(ReplicaConfigError);
  });
});
