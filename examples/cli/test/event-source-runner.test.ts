import {
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  PutRecordCommand,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { type KinesisStreamEvent, shardIdOfEvent } from '@kinesis-archive/core';
import { createStream, uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import {
  EventSourceOptionsError,
  EventSourceRetriesExhaustedError,
  runKinesisEventSource,
  StreamNotFoundError,
} from '../src/index.js';
import { putRecords } from './helpers.js';

const { clients } = localAws();
afterAll(() => clients.destroy());
const kinesis = clients.kinesis;

function data(record: KinesisStreamEvent['Records'][number]): string {
  return Buffer.from(record.kinesis.data, 'base64').toString('utf8');
}

describe('runKinesisEventSource', () => {
  it('delivers every record at least once, in shard order, with no gaps, honouring batchItemFailures', async () => {
    const streamName = uniqueName('runner');
    await createStream(kinesis, streamName, { shards: 2 });
    const written = await putRecords(kinesis, streamName, 600);
    const delivered = new Map<string, string[]>(); // every delivery, in order
    const completed = new Map<string, string[]>(); // records the handler acknowledged, in order
    const failedOnce = new Set<string>();
    let invocation = 0;
    let largest = 0;
    const stats = await runKinesisEventSource({
      kinesis,
      streamName,
      batchSize: 40,
      stopWhenIdle: true,
      retryBaseDelayMs: 1,
      handler: async (event) => {
        invocation++;
        largest = Math.max(largest, event.Records.length);
        const shardId = shardIdOfEvent(event.Records[0]!) ?? '';
        const seqs = event.Records.map((r) => r.kinesis.sequenceNumber);
        delivered.set(shardId, [...(delivered.get(shardId) ?? []), ...seqs]);
        if (invocation % 7 === 3) throw new Error('boom'); // whole batch fails
        // Fail the first delivery of every 13th record, and report a later one too (the lowest counts).
        const failIndex = event.Records.findIndex(
          (r) => Number(data(r).slice(7)) % 13 === 0 && !failedOnce.has(r.kinesis.sequenceNumber),
        );
        if (failIndex < 0) {
          completed.set(shardId, [...(completed.get(shardId) ?? []), ...seqs]);
          return { batchItemFailures: [] };
        }
        failedOnce.add(seqs[failIndex]!);
        completed.set(shardId, [...(completed.get(shardId) ?? []), ...seqs.slice(0, failIndex)]);
        const failures = [{ itemIdentifier: seqs[failIndex]! }];
        if (seqs[seqs.length - 1] !== seqs[failIndex])
          failures.unshift({ itemIdentifier: seqs[seqs.length - 1]! });
        return { batchItemFailures: failures };
      },
    });
    expect(largest).toBeLessThanOrEqual(40);
    for (const [shardId, seqs] of written) {
      expect(completed.get(shardId)).toEqual(seqs); // exactly once, in order, no gap
      expect(new Set(delivered.get(shardId))).toEqual(new Set(seqs)); // redeliveries only of these
      expect(stats.shards[shardId]?.checkpoint).toBe(seqs[seqs.length - 1]);
    }
    expect(stats.records).toBe(600);
    expect(stats.partialFailures).toBeGreaterThan(0);
    expect(stats.errors).toBeGreaterThan(0);
    expect(stats.retries).toBe(stats.partialFailures + stats.errors);
    expect(stats.invocations).toBe(invocation);
  });

  it('treats an unknown or empty itemIdentifier as a failure of the whole batch', async () => {
    const streamName = uniqueName('runner-malformed');
    await createStream(kinesis, streamName, { shards: 1 });
    await putRecords(kinesis, streamName, 10);
    const firsts: string[] = [];
    const responses = [
      { batchItemFailures: [{ itemIdentifier: '' }] },
      { batchItemFailures: [{ itemIdentifier: '12345' }] },
      { batchItemFailures: [] },
    ];
    const stats = await runKinesisEventSource({
      kinesis,
      streamName,
      stopWhenIdle: true,
      retryBaseDelayMs: 1,
      handler: (event) => {
        firsts.push(event.Records[0]!.kinesis.sequenceNumber);
        expect(event.Records).toHaveLength(10);
        return responses.shift();
      },
    });
    expect(firsts).toHaveLength(3);
    expect(new Set(firsts).size).toBe(1);
    expect(stats).toMatchObject({ errors: 2, retries: 2, records: 10, delivered: 30 });
  });

  it('builds real Lambda-shaped events', async () => {
    const streamName = uniqueName('runner-shape');
    await createStream(kinesis, streamName, { shards: 1 });
    await putRecords(kinesis, streamName, 3);
    const events: KinesisStreamEvent[] = [];
    await runKinesisEventSource({
      kinesis,
      streamName,
      stopWhenIdle: true,
      handler: (e) => void events.push(e),
    });
    const record = events[0]!.Records[0]!;
    expect(record).toMatchObject({ eventSource: 'aws:kinesis', eventName: 'aws:kinesis:record' });
    expect(record.eventSourceARN).toMatch(new RegExp(`^arn:aws:kinesis:[^:]+:\\d+:stream/${streamName}$`));
    expect(record.eventID).toBe(`shardId-000000000000:${record.kinesis.sequenceNumber}`);
    expect(data(record)).toBe('record-0');
    expect(record.kinesis.partitionKey).toBe('key-0');
    expect(record.kinesis.approximateArrivalTimestamp).toBeGreaterThan(1_600_000_000);
  });

  it('reads a parent shard to its end before its children', async () => {
    const streamName = uniqueName('runner-split');
    await createStream(kinesis, streamName, { shards: 1 });
    await putRecords(kinesis, streamName, 100, { keys: 5 });
    await kinesis.send(
      new SplitShardCommand({
        StreamName: streamName,
        ShardToSplit: 'shardId-000000000000',
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    const shards = (await kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
    expect(shards).toHaveLength(3);
    await putRecords(kinesis, streamName, 100, { keys: 5, offset: 100 });
    const order: number[] = [];
    const shardOrder: string[] = [];
    const stats = await runKinesisEventSource({
      kinesis,
      streamName,
      batchSize: 30,
      stopWhenIdle: true,
      pollIntervalMs: 20,
      handler: (event) => {
        shardOrder.push(shardIdOfEvent(event.Records[0]!) ?? '');
        for (const r of event.Records) order.push(Number(data(r).slice(7)));
      },
    });
    expect(stats.records).toBe(200);
    const lastParent = shardOrder.lastIndexOf('shardId-000000000000');
    const firstChild = shardOrder.findIndex((s) => s !== 'shardId-000000000000');
    expect(lastParent).toBeLessThan(firstChild);
    expect(order.slice(0, 100)).toEqual([...Array(100).keys()]);
    expect(stats.shards['shardId-000000000000']?.finished).toBe(true);
  });

  it('starts at a timestamp or at the tip', async () => {
    const streamName = uniqueName('runner-start');
    await createStream(kinesis, streamName, { shards: 1 });
    await putRecords(kinesis, streamName, 20);
    await new Promise((r) => setTimeout(r, 1_100));
    const after = new Date();
    await new Promise((r) => setTimeout(r, 100));
    await putRecords(kinesis, streamName, 5, { offset: 20 });
    const seen: string[] = [];
    await runKinesisEventSource({
      kinesis,
      streamName,
      startingPosition: { timestamp: after },
      stopWhenIdle: true,
      handler: (e) => void seen.push(...e.Records.map(data)),
    });
    expect(seen).toEqual(['record-20', 'record-21', 'record-22', 'record-23', 'record-24']);
    const latest = await runKinesisEventSource({
      kinesis,
      streamName,
      startingPosition: 'LATEST',
      stopWhenIdle: true,
      handler: () => undefined,
    });
    expect(latest.records).toBe(0);
  });

  it('stops after maxRetries with the checkpoint before the failing batch, or skips it when asked', async () => {
    const streamName = uniqueName('runner-exhaust');
    await createStream(kinesis, streamName, { shards: 1 });
    const written = await putRecords(kinesis, streamName, 30);
    const seqs = written.get('shardId-000000000000')!;
    const handler = (event: KinesisStreamEvent) => {
      const bad = event.Records.find((r) => data(r) === 'record-12');
      return { batchItemFailures: bad ? [{ itemIdentifier: bad.kinesis.sequenceNumber }] : [] };
    };
    const error = await runKinesisEventSource({
      kinesis,
      streamName,
      batchSize: 10,
      maxRetries: 2,
      retryBaseDelayMs: 1,
      stopWhenIdle: true,
      handler,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventSourceRetriesExhaustedError);
    expect(error).toMatchObject({
      code: 'EVENT_SOURCE_RETRIES_EXHAUSTED',
      firstSequenceNumber: seqs[12],
      attempts: 3,
    });

    const stats = await runKinesisEventSource({
      kinesis,
      streamName,
      batchSize: 10,
      maxRetries: 2,
      retryBaseDelayMs: 1,
      stopWhenIdle: true,
      onRetriesExhausted: 'skip',
      handler,
    });
    expect(stats.skipped).toEqual([
      expect.objectContaining({
        startSequenceNumber: seqs[12],
        endSequenceNumber: seqs[21],
        records: 10,
        attempts: 3,
      }),
    ]);
    expect(stats.records).toBe(20);
    expect(stats.shards['shardId-000000000000']?.checkpoint).toBe(seqs[29]);
  });

  it('rejects bad options and unknown streams with typed errors', async () => {
    const handler = () => undefined;
    await expect(runKinesisEventSource({ kinesis, handler })).rejects.toBeInstanceOf(EventSourceOptionsError);
    await expect(runKinesisEventSource({ kinesis, streamName: 's', handler, batchSize: 0 })).rejects.toThrow(
      /batchSize must be an integer from 1 to 10000/,
    );
    await expect(
      runKinesisEventSource({
        kinesis,
        streamName: 's',
        handler,
        startingPosition: { timestamp: new Date('x') },
      }),
    ).rejects.toBeInstanceOf(EventSourceOptionsError);
    await expect(
      runKinesisEventSource({ kinesis, streamName: uniqueName('missing'), handler, stopWhenIdle: true }),
    ).rejects.toBeInstanceOf(StreamNotFoundError);
  });

  it('resumes a shard that stopped idle where it was, when a reshard elsewhere wakes the run up', async () => {
    // Shard A goes idle and its worker stops; later shard B is split and read to its end, which makes the run
    // schedule the waiting shards again. A must go on after its last record, not re-open at the starting position
    // (with LATEST that skipped what A received in between; with TRIM_HORIZON it re-delivered everything).
    const streamName = uniqueName('runner-idle-resume');
    await createStream(kinesis, streamName, { shards: 2 });
    const A = 'shardId-000000000000';
    const B = 'shardId-000000000001';
    const hashA = '1';
    const hashB = (2n ** 127n + 1n).toString();
    const opened = new Set<string>();
    const watched = Object.create(kinesis) as KinesisClient;
    // biome-ignore lint/suspicious/noExplicitAny: a pass-through spy on the client's send.
    watched.send = (async (command: any) => {
      const out = await kinesis.send(command);
      if (command instanceof GetShardIteratorCommand) opened.add(command.input.ShardId ?? '');
      return out;
      // biome-ignore lint/suspicious/noExplicitAny: see above.
    }) as any;
    const delivered: string[] = [];
    let putOnA: string | undefined;
    const run = runKinesisEventSource({
      kinesis: watched,
      streamName,
      startingPosition: 'LATEST',
      stopWhenIdle: { idleMs: 300 },
      pollIntervalMs: 20,
      handler: async (event) => {
        for (const r of event.Records) delivered.push(`${shardIdOfEvent(r)}/${data(r)}`);
        if (shardIdOfEvent(event.Records[0]!) !== B || putOnA) return;
        await new Promise((r) => setTimeout(r, 1_500)); // A is idle and its worker has stopped by now
        const out = await kinesis.send(
          new PutRecordCommand({
            StreamName: streamName,
            PartitionKey: 'a',
            ExplicitHashKey: hashA,
            Data: Buffer.from('on-a'),
          }),
        );
        putOnA = out.ShardId;
        await kinesis.send(
          new SplitShardCommand({
            StreamName: streamName,
            ShardToSplit: B,
            NewStartingHashKey: (2n ** 127n + 2n ** 126n).toString(),
          }),
        );
      },
    });
    for (let i = 0; i < 500 && !(opened.has(A) && opened.has(B)); i++)
      await new Promise((r) => setTimeout(r, 10));
    await kinesis.send(
      new PutRecordCommand({
        StreamName: streamName,
        PartitionKey: 'b',
        ExplicitHashKey: hashB,
        Data: Buffer.from('on-b'),
      }),
    );
    const stats = await run;
    expect(putOnA).toBe(A);
    expect(stats.shards[B]?.finished).toBe(true);
    expect(delivered).toEqual([`${B}/on-b`, `${A}/on-a`]);
    expect(stats.records).toBe(2);
  });

  it('stops cleanly when the signal aborts', async () => {
    const streamName = uniqueName('runner-abort');
    await createStream(kinesis, streamName, { shards: 1 });
    await putRecords(kinesis, streamName, 5);
    const controller = new AbortController();
    let records = 0;
    const stats = await runKinesisEventSource({
      kinesis,
      streamName,
      signal: controller.signal,
      handler: (event) => {
        records += event.Records.length;
        setTimeout(() => controller.abort(), 50);
      },
    });
    expect(records).toBe(5);
    expect(stats.records).toBe(5);
  });
});
