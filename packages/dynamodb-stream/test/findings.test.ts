// Tests first: each test states the correct behaviour for one review finding, so it fails on the code the finding
// was made against. They run on in-memory fakes only (FakeStreams, FakeDynamoDB), never on DynamoDB Local.
import type { EventEmitter } from 'node:events';
import {
  DescribeStreamCommand,
  type DescribeStreamCommandOutput,
  GetRecordsCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { describe, expect, it } from 'vitest';
import {
  type ChangeBatch,
  type ChangeRecord,
  CheckpointConflictError,
  type CheckpointStore,
  type DataLossInfo,
  DynamoDBStream,
  InMemoryCheckpointStore,
  type ReplicaChange,
  type ShardState,
  type StreamsClient,
  TableReplica,
} from '../src/index.js';
import { delay, FakeDynamoDB, type SendOptions } from './fake-dynamodb.js';
import { awsError, FakeStreams, makeRecord } from './fake-streams.js';

const ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x';
const img = (id: string, v: number) => ({ id: { S: id }, v: { N: String(v) } });
type StreamOptions = ConstructorParameters<typeof DynamoDBStream>[0];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every few ms; `false` when it is still not true after `timeoutMs`. */
async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) return false;
    await sleep(5);
  }
  return true;
}

/** Resolves with `'timeout'` when `promise` did not settle within `ms`, else with `label`. */
async function within(promise: Promise<unknown>, ms: number, label: string): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise.then(() => label), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

type Next = () => Promise<unknown>;
type Hook = (command: unknown, next: Next, options: SendOptions | undefined) => Promise<unknown>;

/** FakeStreams whose answers a test may rewrite (drop a shard from a listing, hang or empty a GetRecords). */
class HookedStreams extends FakeStreams {
  hook: Hook | undefined;

  override send(command: unknown, options?: SendOptions): Promise<unknown> {
    const next = () => super.send(command);
    return this.hook ? this.hook(command, next, options) : next();
  }
}

/** The shard a GetRecords call reads (the fake's iterators are `shardId|position|counter`). */
const shardOfIterator = (command: GetRecordsCommand) => command.input.ShardIterator?.split('|')[0];

/** A record whose approximate creation time is now (real streams always carry one). */
function recordNow(...args: Parameters<typeof makeRecord>) {
  const record = makeRecord(...args);
  record.dynamodb!.ApproximateCreationDateTime = new Date();
  return record;
}

function consumer(fake: FakeStreams, extra: Partial<StreamOptions> = {}) {
  const stream = new DynamoDBStream({
    client: fake,
    streamArn: ARN,
    retry: { baseDelayMs: 1 },
    ...extra,
  } as StreamOptions);
  const seen: ChangeRecord[] = [];
  const errors: Error[] = [];
  const losses: DataLossInfo[] = [];
  stream.on('record', (r) => {
    seen.push(r);
  });
  stream.on('error', (e) => {
    errors.push(e);
  });
  stream.on('data loss', (info) => {
    losses.push(info);
  });
  return { stream, seen, errors, losses };
}

const ids = (records: readonly ChangeRecord[]) => records.map((r) => r.keys.id);

/** A replica on a one-shard fake stream and a fake table; the stream's errors are collected. */
function replicaSetup(
  options: { segments?: number; apply?: (change: ReplicaChange) => void | Promise<void> } = {},
) {
  const streams = new HookedStreams();
  streams.addShard('s');
  const table = new FakeDynamoDB('t', ARN);
  const replica = new TableReplica({
    dynamodb: table.client,
    streams: streams as StreamsClient,
    tableName: 't',
    segments: options.segments ?? 1,
    stream: { retry: { baseDelayMs: 1, maxAttempts: 2 } },
    ...(options.apply ? { apply: options.apply } : {}),
  });
  return { streams, table, replica };
}

describe('findings', () => {
  it('1. a shard left out of one DescribeStream answer is not retired: its later records are read', async () => {
    const fake = new HookedStreams();
    fake.addShard('s0');
    fake.addShard('s1');
    fake.put('s0', makeRecord('INSERT', 'a0', img('a0', 1)));
    fake.put('s1', makeRecord('INSERT', 'b0', img('b0', 1)));
    let describes = 0;
    fake.hook = async (command, next) => {
      if (!(command instanceof DescribeStreamCommand)) return next();
      describes++;
      const out = (await next()) as DescribeStreamCommandOutput;
      if (describes !== 2) return out;
      // One listing (an eventually consistent answer) leaves s1 out; s1 is still there and open.
      const shards = out.StreamDescription?.Shards?.filter((s) => s.ShardId !== 's1');
      return { ...out, StreamDescription: { ...out.StreamDescription, Shards: shards } };
    };
    const { stream, seen, losses } = consumer(fake);
    await stream.fetchStreamState();
    await stream.fetchStreamState(); // the listing without s1
    expect(describes).toBeGreaterThanOrEqual(2);
    fake.put('s1', makeRecord('INSERT', 'b1', img('b1', 2)));
    fake.put('s1', makeRecord('INSERT', 'b2', img('b2', 3)));
    for (let i = 0; i < 4; i++) await stream.fetchStreamState();
    expect(ids(seen.filter((r) => r.shardId === 's1'))).toEqual(['b0', 'b1', 'b2']);
    expect(losses).toEqual([]);
  });

  it('2. a child listed without its (still existing) parent is read only after that parent', async () => {
    const fake = new HookedStreams();
    fake.addShard('p', { closed: true });
    fake.addShard('c', { parentShardId: 'p' });
    for (let v = 1; v <= 3; v++) fake.put('p', makeRecord('MODIFY', 'k', img('k', v)));
    for (let v = 4; v <= 5; v++) fake.put('c', makeRecord('MODIFY', 'k', img('k', v)));
    let describes = 0;
    fake.hook = async (command, next) => {
      if (!(command instanceof DescribeStreamCommand)) return next();
      describes++;
      const out = (await next()) as DescribeStreamCommandOutput;
      if (describes !== 1) return out;
      // The first listing shows the child only; GetShardIterator on the parent still succeeds.
      const shards = out.StreamDescription?.Shards?.filter((s) => s.ShardId !== 'p');
      return { ...out, StreamDescription: { ...out.StreamDescription, Shards: shards } };
    };
    const { stream, seen } = consumer(fake);
    for (let i = 0; i < 5; i++) await stream.fetchStreamState();
    expect(seen.filter((r) => r.keys.id === 'k').map((r) => r.newImage?.v)).toEqual([1, 2, 3, 4, 5]);
  });

  it('3. sync() resolves only once the stream is read up to the changes made before the scan ended', async () => {
    const { streams, table, replica } = replicaSetup();
    table.setItems([img('a', 1)]);
    let scans = 0;
    table.onScan = () => {
      // Changes made after the bookmark, while the table is scanned.
      if (scans++ > 0) return;
      streams.put('s', recordNow('MODIFY', 'a', img('a', 2), img('a', 1)));
      streams.put('s', recordNow('INSERT', 'c', img('c', 1)));
    };
    let empties = 0;
    streams.hook = async (command, next) => {
      // The shard answers two empty pages (with a next iterator) before the records further on.
      if (command instanceof GetRecordsCommand && shardOfIterator(command) === 's' && empties < 2) {
        empties++;
        return { Records: [], NextShardIterator: command.input.ShardIterator };
      }
      return next();
    };
    await replica.sync();
    expect(scans).toBeGreaterThan(0);
    expect(replica.items.get(replica.keyOf({ id: 'a' }))).toEqual({ id: 'a', v: 2 });
    expect(replica.items.get(replica.keyOf({ id: 'c' }))).toEqual({ id: 'c', v: 1 });
  });

  it('4a. sync() rejects when the stream cannot be read', async () => {
    const { streams, table, replica } = replicaSetup();
    table.setItems([img('a', 1)]);
    table.onScan = () => {
      if (streams.shards.get('s')!.records.length === 0)
        streams.put('s', recordNow('INSERT', 'c', img('c', 1)));
    };
    streams.hook = async (command, next) => {
      if (command instanceof GetRecordsCommand) throw awsError('AccessDeniedException');
      return next();
    };
    await expect(replica.sync()).rejects.toThrow();
  }, 10_000);

  it('4b. sync() rejects when apply() throws for a stream change', async () => {
    const boom = new Error('apply failed');
    const { streams, table, replica } = replicaSetup({
      apply: (change) => {
        if (change.record) throw boom;
      },
    });
    table.setItems([img('a', 1)]);
    table.onScan = () => {
      if (streams.shards.get('s')!.records.length === 0) {
        streams.put('s', recordNow('MODIFY', 'a', img('a', 2), img('a', 1)));
      }
    };
    await expect(replica.sync()).rejects.toThrow();
  }, 10_000);

  it('5. the iterator yields no batch after a save got CheckpointConflictError', async () => {
    const fake = new FakeStreams();
    fake.addShard('s0');
    fake.addShard('s1');
    for (let i = 1; i <= 2; i++) {
      fake.put('s0', makeRecord('INSERT', `a${i}`, img(`a${i}`, i)));
      fake.put('s1', makeRecord('INSERT', `b${i}`, img(`b${i}`, i)));
    }
    let saves = 0;
    const store: CheckpointStore = {
      load: async () => undefined,
      save: async (_state: ShardState) => {
        saves++;
        throw new CheckpointConflictError('x', 1);
      },
    };
    const { stream } = consumer(fake, { checkpointStore: store });
    let yielded = 0;
    let yieldedAfterConflict = 0;
    const run = (async () => {
      try {
        for await (const _batch of stream.batches({ pollIntervalMs: 5 })) {
          yielded++;
          if (saves > 0) yieldedAfterConflict++;
          if (yielded > 20) break; // never spin forever
        }
      } catch {
        // Ending by throwing is fine too.
      }
    })();
    expect(await within(run, 8_000, 'ended')).toBe('ended');
    expect(saves).toBe(1);
    expect(yieldedAfterConflict).toBe(0);
  }, 10_000);

  it('6. stop() called in the loop body ends the iterator: no further batch and no further save', async () => {
    const fake = new FakeStreams();
    fake.addShard('s0');
    fake.addShard('s1');
    fake.put('s0', makeRecord('INSERT', 'a1', img('a1', 1)));
    fake.put('s1', makeRecord('INSERT', 'b1', img('b1', 1)));
    const store = new InMemoryCheckpointStore();
    const { stream } = consumer(fake, { checkpointStore: store });
    const batches: ChangeBatch[] = [];
    let stopped = false;
    let afterStop = 0;
    let savesAtStop = -1;
    const run = (async () => {
      for await (const batch of stream.batches({ pollIntervalMs: 5 })) {
        batches.push(batch);
        if (stopped) afterStop++;
        if (batches.length === 1) {
          await stream.stop();
          stopped = true;
          savesAtStop = store.saves;
        }
        if (batches.length > 20) break; // never spin forever
      }
    })();
    expect(await within(run, 8_000, 'ended')).toBe('ended');
    expect(stopped).toBe(true);
    expect(afterStop).toBe(0);
    expect(store.saves).toBe(savesAtStop);
  }, 10_000);

  it('7. a shard whose GetRecords hangs does not stall the other shards, and stop() still returns', async () => {
    const fake = new HookedStreams();
    for (const id of ['a', 'b', 'slow']) fake.addShard(id);
    fake.put('slow', makeRecord('INSERT', 'slow1', img('slow1', 1)));
    fake.hook = async (command, next, options) => {
      if (command instanceof GetRecordsCommand && shardOfIterator(command) === 'slow') {
        // Never answers, not even when the caller aborts the request: the consumer must abandon it.
        void options;
        return new Promise(() => undefined);
      }
      return next();
    };
    const { stream, seen } = consumer(fake);
    stream.start({ pollIntervalMs: 10 });
    const expected: string[] = [];
    for (let round = 1; round <= 3; round++) {
      await sleep(30);
      for (const shard of ['a', 'b']) {
        const id = `${shard}${round}`;
        fake.put(shard, makeRecord('INSERT', id, img(id, round)));
        expected.push(id);
      }
    }
    await waitFor(() => expected.every((id) => seen.some((r) => r.keys.id === id)), 5_000);
    const got = new Set(ids(seen));
    expect.soft(expected.filter((id) => !got.has(id))).toEqual([]);
    expect.soft(await within(stream.stop(), 5_000, 'stop')).toBe('stop');
  }, 20_000);

  it('10. sync() again drops keys deleted meanwhile and leaves no listener on the old stream', async () => {
    const { table, replica } = replicaSetup();
    table.setItems([img('a', 1), img('b', 1)]);
    await replica.sync();
    expect([...replica.items.keys()].sort()).toEqual([
      replica.keyOf({ id: 'a' }),
      replica.keyOf({ id: 'b' }),
    ]);
    const old = replica.stream!;
    await replica.stop();
    // b was deleted while the replica was stopped, and its REMOVE is not in the stream any more.
    table.setItems([img('a', 1)]);
    await replica.sync();
    expect.soft([...replica.items.keys()]).toEqual([replica.keyOf({ id: 'a' })]);
    if (replica.stream === old) expect.soft(old.listenerCount('record')).toBeLessThanOrEqual(1);
    else expect.soft(old.listenerCount('record')).toBe(0);
    await replica.stop();
  }, 10_000);

  it('11. breaking out of the iterator keeps a LATEST start: history is never delivered', async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    fake.put('s', makeRecord('INSERT', 'o1', img('o1', 1)));
    fake.put('s', makeRecord('INSERT', 'o2', img('o2', 2)));
    const { stream } = consumer(fake, { startingPosition: 'LATEST' });
    await stream.bookmark();
    fake.put('s', makeRecord('INSERT', 'n1', img('n1', 3)));
    const delivered: ChangeRecord[] = [];
    const first: ChangeBatch[] = [];
    const second: ChangeBatch[] = [];
    const loop = async (into: ChangeBatch[]) => {
      for await (const batch of stream.batches({ pollIntervalMs: 5 })) {
        into.push(batch);
        delivered.push(...batch.records);
        break; // not acknowledged
      }
    };
    expect(await within(loop(first), 5_000, 'done')).toBe('done');
    expect(first.map((b) => ids(b.records))).toEqual([['n1']]);
    expect(await within(loop(second), 5_000, 'done')).toBe('done');
    expect(second.map((b) => ids(b.records))).toEqual([['n1']]);
    expect(ids(delivered).filter((id) => id === 'o1' || id === 'o2')).toEqual([]);
  }, 15_000);

  it('12. when one scan segment fails, sync() rejects and no segment calls apply() afterwards', async () => {
    const applied: number[] = [];
    const { table, replica } = replicaSetup({
      segments: 2,
      apply: () => {
        applied.push(performance.now());
      },
    });
    table.pages.set(
      1,
      Array.from({ length: 10 }, (_, page) => [img(`p${page}-0`, page), img(`p${page}-1`, page)]),
    );
    table.onScan = async ({ segment, signal }) => {
      if (segment === 0) throw awsError('AccessDeniedException');
      await delay(20, signal);
    };
    const error = await replica.sync().then(
      () => undefined,
      (e: unknown) => e,
    );
    const rejectedAt = performance.now();
    expect(error).toBeInstanceOf(Error);
    await sleep(300);
    expect(applied.filter((t) => t > rejectedAt).length).toBe(0);
  }, 10_000);

  it('13. start() while stop() is pending runs the consumer again once stopped', async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    const { stream, seen } = consumer(fake);
    stream.start({ pollIntervalMs: 10 });
    const stopping = stream.stop();
    stream.start({ pollIntervalMs: 10 });
    await stopping;
    fake.put('s', makeRecord('INSERT', 'after', img('after', 1)));
    await waitFor(() => seen.some((r) => r.keys.id === 'after'), 5_000);
    expect(ids(seen)).toContain('after');
    expect(await within(stream.stop(), 5_000, 'stop')).toBe('stop');
  }, 15_000);

  it("a. a LATEST first start emits 'remove shards' for the closed shards it retires", async () => {
    const fake = new FakeStreams();
    fake.addShard('old', { closed: true });
    fake.put('old', makeRecord('INSERT', 'before', img('before', 1)));
    fake.addShard('open');
    fake.put('open', makeRecord('INSERT', 'before2', img('before2', 1)));
    const { stream, seen } = consumer(fake, { startingPosition: 'LATEST' });
    const removed: string[][] = [];
    stream.on('remove shards', (shardIds) => {
      removed.push(shardIds);
    });
    await stream.fetchStreamState();
    await stream.fetchStreamState();
    expect(stream.getShardState().old?.retired).toBe(true);
    expect(seen).toEqual([]);
    expect(removed.flat()).toContain('old');
  });

  it('c. a DescribeStream throttled past its retries does not skip reading the known shards', async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    fake.put('s', makeRecord('INSERT', 'r1', img('r1', 1)));
    const { stream, seen, errors } = consumer(fake, { retry: { baseDelayMs: 1, maxAttempts: 2 } });
    await stream.fetchStreamState();
    expect(ids(seen)).toEqual(['r1']);
    fake.put('s', makeRecord('INSERT', 'r2', img('r2', 2)));
    fake.fail('DescribeStream', awsError('LimitExceededException'), awsError('LimitExceededException'));
    await stream.fetchStreamState();
    expect(fake.failures.get('DescribeStream')).toEqual([]); // the listing did fail, twice
    expect(errors.length).toBeGreaterThan(0);
    expect(ids(seen)).toEqual(['r1', 'r2']);
  });

  it('d. an unknown event name without images on a KEYS_ONLY stream is not taken for a TTL delete', async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    const raw = makeRecord('UNKNOWN_X', 'k');
    raw.dynamodb!.StreamViewType = 'KEYS_ONLY';
    fake.put('s', raw);
    const { stream, seen } = consumer(fake);
    await stream.fetchStreamState();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.rawEventName).toBe('UNKNOWN_X');
    expect(seen[0]!.ttlDelete).toBe(false);
  });

  describe('e. poison changes', () => {
    function poisonFake() {
      const fake = new FakeStreams();
      fake.addShard('s');
      const bad = fake.put('s', makeRecord('INSERT', 'bad', img('bad', 1)));
      fake.put('s', makeRecord('INSERT', 'good1', img('good1', 2)));
      fake.put('s', makeRecord('INSERT', 'good2', img('good2', 3)));
      return { fake, badSeq: bad.dynamodb!.SequenceNumber! };
    }

    /** True when `error` is `target` or has it in its `cause` chain. */
    function carries(error: unknown, target: Error): boolean {
      for (let e = error; e; e = (e as { cause?: unknown }).cause) if (e === target) return true;
      return false;
    }

    interface PoisonInfo {
      record: ChangeRecord;
      error: unknown;
      attempts: number;
    }

    it('goes to onPoison after maxAttempts, then the shard moves on', async () => {
      const { fake, badSeq } = poisonFake();
      const boom = new Error('cannot apply');
      const poisoned: PoisonInfo[] = [];
      const { stream, seen } = consumer(fake, {
        poison: {
          maxAttempts: 3,
          onPoison: async (info: PoisonInfo) => {
            poisoned.push(info);
          },
        },
      } as Partial<StreamOptions>);
      let badAttempts = 0;
      const good: unknown[] = [];
      stream.on('record', (r) => {
        if (r.keys.id === 'bad') {
          badAttempts++;
          throw boom;
        }
        good.push(r.keys.id);
      });
      for (let i = 0; i < 10 && good.length < 2; i++) await stream.fetchStreamState();
      expect(seen.length).toBeGreaterThan(0);
      expect(poisoned).toHaveLength(1);
      expect(poisoned[0]!.record.sequenceNumber).toBe(badSeq);
      expect(carries(poisoned[0]!.error, boom)).toBe(true);
      expect(poisoned[0]!.attempts).toBe(3);
      expect(badAttempts).toBe(3);
      expect(good).toEqual(['good1', 'good2']);
    }, 10_000);

    it("without onPoison, emits 'poison' and moves on only once its async listener settled", async () => {
      const { fake, badSeq } = poisonFake();
      const boom = new Error('cannot apply');
      const { stream } = consumer(fake, { poison: { maxAttempts: 3 } } as Partial<StreamOptions>);
      const good: unknown[] = [];
      stream.on('record', (r) => {
        if (r.keys.id === 'bad') throw boom;
        good.push(r.keys.id);
      });
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const poisoned: PoisonInfo[] = [];
      (stream as unknown as EventEmitter).on('poison', async (info: PoisonInfo) => {
        poisoned.push(info);
        await gate;
      });
      stream.start({ pollIntervalMs: 5 });
      try {
        await waitFor(() => poisoned.length > 0, 5_000);
        expect(poisoned).toHaveLength(1);
        expect(poisoned[0]!.record.sequenceNumber).toBe(badSeq);
        expect(carries(poisoned[0]!.error, boom)).toBe(true);
        expect(poisoned[0]!.attempts).toBe(3);
        await sleep(250);
        expect(good).toEqual([]); // held while the 'poison' listener runs
        release();
        await waitFor(() => good.length >= 2, 5_000);
        expect(good).toEqual(['good1', 'good2']);
      } finally {
        release();
        await within(stream.stop(), 5_000, 'stop');
      }
    }, 20_000);
  });
});
