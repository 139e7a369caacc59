import { createLocalClients, uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ChangeRecord,
  ConsumerStateError,
  DynamoDBStream,
  InMemoryCheckpointStore,
  LeaseTable,
} from '../src/index.js';
import { FakeStreams } from './fake-streams.js';
import { checkDelivered, type Delivery, shardName, sleep, waitFor, writer } from './lease-helpers.js';

const { clients, endpoints } = localAws();
afterAll(() => clients.destroy());

const ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/leases';
const SHARDS = 32;

function leased(
  fake: FakeStreams,
  tableName: string,
  workerId: string,
  deliveries: Delivery[],
  leaseDurationMs: number,
) {
  const own = createLocalClients(endpoints);
  const stream = new DynamoDBStream({
    client: fake,
    streamArn: ARN,
    retry: { baseDelayMs: 1 },
    leases: { dynamodb: own.dynamodb, tableName, workerId, leaseDurationMs, renewIntervalMs: 250 },
  });
  stream.on('record', (r: ChangeRecord) => {
    deliveries.push({
      worker: workerId,
      shardId: r.shardId,
      sequenceNumber: r.sequenceNumber,
      key: String(r.keys.id),
      v: Number(r.newImage?.v),
    });
  });
  const errors: Error[] = [];
  stream.on('error', (e) => errors.push(e));
  return { stream, errors, destroy: () => own.destroy() };
}

describe('leases: consumers sharing a stream', () => {
  it('3 consumers, 32 shards and a split: every change once, in order per key, leases spread evenly and never held twice', async () => {
    const fake = new FakeStreams();
    for (let i = 0; i < SHARDS; i++) fake.addShard(shardName(i));
    const w = writer(fake);
    for (let i = 0; i < SHARDS; i++) w.put(shardName(i), shardName(i));
    const tableName = uniqueName('leases');
    await LeaseTable.create(clients.dynamodb, tableName);
    const deliveries: Delivery[] = [];
    const consumers = ['w0', 'w1', 'w2'].map((id) => leased(fake, tableName, id, deliveries, 3_000));
    let overlaps = 0;
    const sampler = setInterval(() => {
      const seen = new Map<string, number>();
      for (const c of consumers)
        for (const id of c.stream.leasedShards) seen.set(id, (seen.get(id) ?? 0) + 1);
      for (const n of seen.values()) if (n > 1) overlaps++;
    }, 20);
    try {
      for (const c of consumers) c.stream.start({ pollIntervalMs: 20, shardDiscoveryIntervalMs: 200 });
      for (let round = 0; round < 10; round++) {
        await sleep(150);
        if (round === 4) {
          // shard-00 splits: its keys go on in its two children
          fake.shards.get(shardName(0))!.closed = true;
          fake.addShard('shard-32', { parentShardId: shardName(0) });
          fake.addShard('shard-33', { parentShardId: shardName(0) });
        }
        for (let i = 1; i < SHARDS; i++) w.put(shardName(i), shardName(i));
        // a key stays in one child: shard-00's keys go on in shard-32, shard-33 gets keys of its own
        w.put(round < 4 ? shardName(0) : 'shard-32', shardName(0));
        if (round >= 4) w.put('shard-33', 'shard-33');
      }
      const state = async () => ({
        missing: w.expected
          .filter((e) => !deliveries.some((d) => d.key === e.key && d.v === e.v))
          .slice(0, 5),
        held: consumers.map((c) => [c.stream.leasedShards, c.stream.leaseCounts, c.stream.phase]),
        leases: await new LeaseTable(clients.dynamodb, tableName, ARN).list(),
        errors: consumers.flatMap((c) => c.errors.map(String)),
      });
      await waitFor(
        () => w.expected.every((e) => deliveries.some((d) => d.key === e.key && d.v === e.v)),
        30_000,
        state,
      );
      // Spread: every consumer holds about a third of the 33 open shards.
      const total = () => consumers.reduce((n, c) => n + c.stream.leasedShards.length, 0);
      await waitFor(
        () => total() === 33 && consumers.every((c) => c.stream.leasedShards.length >= 9),
        30_000,
        state,
      );
      const held = consumers.map((c) => c.stream.leasedShards.length);
      for (const n of held) expect(n).toBeGreaterThanOrEqual(9);
    } finally {
      clearInterval(sampler);
      await Promise.all(consumers.map((c) => c.stream.stop()));
      for (const c of consumers) c.destroy();
    }
    const duplicates = checkDelivered(w.expected, deliveries);
    if (duplicates > 0) {
      const first = new Map<string, Delivery>();
      for (const d of deliveries) {
        const k = `${d.key}=${d.v}`;
        const f = first.get(k);
        if (f) process.stderr.write(`DUP ${k} ${d.shardId} first=${f.worker} again=${d.worker}\n`);
        else first.set(k, d);
      }
      process.stderr.write(`COUNTS ${JSON.stringify(consumers.map((c) => c.stream.leaseCounts))}\n`);
    }
    // A steal moves a lease from a live worker: the thief waits until the old owner found out, so nothing is read twice.
    expect(duplicates).toBe(0);
    expect(overlaps).toBe(0);
    expect(consumers.flatMap((c) => c.errors)).toEqual([]);
    // The parent was drained before its children were read: its keys' order held across the split (checked above).
    expect(
      deliveries.filter((d) => d.shardId === 'shard-32' || d.shardId === 'shard-33').length,
    ).toBeGreaterThan(0);
  }, 90_000);

  it('a stopped consumer releases its leases (after its checkpoints): the others take them at once, nothing read twice', async () => {
    const fake = new FakeStreams();
    for (let i = 0; i < 8; i++) fake.addShard(shardName(i));
    const w = writer(fake);
    for (let i = 0; i < 8; i++) w.put(shardName(i), shardName(i));
    const tableName = uniqueName('leases');
    const deliveries: Delivery[] = [];
    const a = leased(fake, tableName, 'a', deliveries, 60_000); // a long lease: only a release hands it over soon
    const b = leased(fake, tableName, 'b', deliveries, 60_000);
    try {
      a.stream.start({ pollIntervalMs: 20, shardDiscoveryIntervalMs: 200 });
      await waitFor(() => a.stream.leasedShards.length === 8, 20_000);
      await waitFor(
        () => w.expected.every((e) => deliveries.some((d) => d.key === e.key && d.v === e.v)),
        20_000,
      );
      await a.stream.stop();
      expect(a.stream.leasedShards).toEqual([]);
      const stoppedAt = Date.now();
      b.stream.start({ pollIntervalMs: 20, shardDiscoveryIntervalMs: 200 });
      for (let i = 0; i < 8; i++) w.put(shardName(i), shardName(i));
      await waitFor(() => b.stream.leasedShards.length === 8, 20_000);
      expect(Date.now() - stoppedAt).toBeLessThan(20_000); // far less than the 60 s lease
      await waitFor(
        () => w.expected.every((e) => deliveries.some((d) => d.key === e.key && d.v === e.v)),
        20_000,
      );
    } finally {
      await a.stream.stop();
      await b.stream.stop();
      a.destroy();
      b.destroy();
    }
    expect(checkDelivered(w.expected, deliveries)).toBe(0);
    expect(new Set(deliveries.filter((d) => d.worker === 'b').map((d) => d.v))).toEqual(new Set([2]));
  }, 60_000);

  it('refuses what leases cannot do: a checkpointStore beside them, LATEST, rounds without leases', async () => {
    const fake = new FakeStreams();
    const leases = { dynamodb: clients.dynamodb, tableName: 'x', workerId: 'w' };
    expect(
      () =>
        new DynamoDBStream({
          client: fake,
          streamArn: ARN,
          leases,
          checkpointStore: new InMemoryCheckpointStore(),
        }),
    ).toThrow(ConsumerStateError);
    expect(
      () => new DynamoDBStream({ client: fake, streamArn: ARN, leases, startingPosition: 'LATEST' }),
    ).toThrow(ConsumerStateError);
    const stream = new DynamoDBStream({ client: fake, streamArn: ARN, leases });
    await expect(stream.catchUp()).rejects.toBeInstanceOf(ConsumerStateError);
    const errors: Error[] = [];
    stream.on('error', (e) => errors.push(e));
    await stream.fetchStreamState();
    expect(errors[0]).toBeInstanceOf(ConsumerStateError);
  });
});
