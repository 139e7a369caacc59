import { DescribeStreamCommand } from '@aws-sdk/client-dynamodb-streams';
import { describe, expect, it } from 'vitest';
import { DynamoDBStream, InMemoryCheckpointStore, type ShardState } from '../src/index.js';
import { FakeStreams, makeRecord } from './fake-streams.js';

const ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x';

function fakeWith(n: number): FakeStreams {
  const fake = new FakeStreams();
  fake.addShard('s');
  for (let i = 1; i <= n; i++) fake.put('s', makeRecord('INSERT', `k${i}`, { id: { S: `k${i}` } }));
  return fake;
}

const seqOf = (fake: FakeStreams, index: number) =>
  fake.shards.get('s')!.records[index]!.dynamodb!.SequenceNumber;

describe('async iterator of batches', () => {
  it('saves a batch checkpoint only once the consumer asks for the next batch', async () => {
    const fake = fakeWith(6);
    fake.recordsPerCall = 2;
    const store = new InMemoryCheckpointStore();
    const stream = new DynamoDBStream({ client: fake, streamArn: ARN, checkpointStore: store });
    const saved: ShardState[] = [];
    stream.on('checkpoint', (s) => saved.push(s));
    const ids: unknown[] = [];
    let batches = 0;
    for await (const batch of stream.batches({ pollIntervalMs: 5 })) {
      batches++;
      // The checkpoint of this batch is not saved while we hold it.
      expect((await store.load())?.s?.sequenceNumber).toBe(
        batches === 1 ? undefined : seqOf(fake, (batches - 1) * 2 - 1),
      );
      ids.push(...batch.records.map((r) => r.keys.id));
      if (ids.length === 6) break;
    }
    expect(ids).toEqual(['k1', 'k2', 'k3', 'k4', 'k5', 'k6']);
    // The consumer broke out while holding the last batch: it is not acknowledged...
    expect((await store.load())?.s?.sequenceNumber).toBe(seqOf(fake, 3));
    // ...so it comes again.
    const again: unknown[] = [];
    for await (const batch of stream) {
      again.push(...batch.records.map((r) => r.keys.id));
      break;
    }
    expect(again).toEqual(['k5', 'k6']);
    // The shard found (no position yet), then one 'checkpoint' per acknowledged batch.
    expect(saved.map((state) => state.s?.sequenceNumber)).toEqual([
      undefined,
      seqOf(fake, 1),
      seqOf(fake, 3),
    ]);
  });

  it('applies backpressure: no poll while the consumer holds a batch', async () => {
    const fake = fakeWith(4);
    fake.recordsPerCall = 1;
    const stream = new DynamoDBStream({ client: fake, streamArn: ARN });
    const it = stream.batches({ pollIntervalMs: 5 });
    await it.next();
    const reads = fake.count('GetRecords');
    await new Promise((r) => setTimeout(r, 30));
    expect(fake.count('GetRecords')).toBe(reads);
    await it.next();
    expect(fake.count('GetRecords')).toBe(reads + 1);
    await it.return();
  });

  it('ends on stop(), leaving the batch in hand unacknowledged: it comes again next time', async () => {
    const fake = fakeWith(2);
    fake.recordsPerCall = 1;
    const stream = new DynamoDBStream({ client: fake, streamArn: ARN });
    const ids: unknown[] = [];
    for await (const batch of stream.batches({ pollIntervalMs: 5 })) {
      ids.push(...batch.records.map((r) => r.keys.id));
      if (ids.length === 2) await stream.stop();
    }
    expect(ids).toEqual(['k1', 'k2']);
    expect(stream.phase).toBe('stopped');
    expect(stream.getShardState().s!.sequenceNumber).toBe(seqOf(fake, 0));
    const again: unknown[] = [];
    for await (const batch of stream) {
      again.push(...batch.records.map((r) => r.keys.id));
      break;
    }
    expect(again).toEqual(['k2']);
  });
});

describe('start and stop', () => {
  it('polls until stop, which waits for the poll in flight and the last checkpoint', async () => {
    const fake = fakeWith(3);
    const store = new InMemoryCheckpointStore();
    const stream = new DynamoDBStream({ client: fake, streamArn: ARN, checkpointStore: store });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const ids: unknown[] = [];
    stream.on('record', async (r) => {
      if (r.keys.id === 'k3') await gate;
      ids.push(r.keys.id);
    });
    stream.start({ pollIntervalMs: 5 });
    await new Promise((r) => setTimeout(r, 30));
    const stopped = stream.stop();
    let done = false;
    void stopped.then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false); // the poll in flight is waiting for the k3 listener
    release();
    await stopped;
    expect(ids).toEqual(['k1', 'k2', 'k3']);
    expect((await store.load())?.s?.sequenceNumber).toBe(seqOf(fake, 2));
    const polls = fake.count('DescribeStream');
    await new Promise((r) => setTimeout(r, 30));
    expect(fake.count('DescribeStream')).toBe(polls);
  });

  it('lists the shards one listing at a time, apart from the reads, and fetchStreamState() waits its turn', async () => {
    const fake = fakeWith(0);
    let active = 0;
    let maxActive = 0;
    const client = {
      send: async (command: unknown) => {
        if (!(command instanceof DescribeStreamCommand)) return fake.send(command);
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, 2));
        try {
          return await fake.send(command);
        } finally {
          active--;
        }
      },
    } as unknown as FakeStreams;
    const stream = new DynamoDBStream({ client, streamArn: ARN });
    stream.start({ pollIntervalMs: 0, shardDiscoveryIntervalMs: 1 });
    // While the consumer runs, its workers own the shards: a round asked for meanwhile does nothing.
    const extra = Array.from({ length: 5 }, () => stream.fetchStreamState());
    await new Promise((r) => setTimeout(r, 60));
    await Promise.all(extra);
    await stream.stop();
    expect(fake.count('DescribeStream')).toBeGreaterThan(3);
    expect(maxActive).toBe(1);
  });
});
