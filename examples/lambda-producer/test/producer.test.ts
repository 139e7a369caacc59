import { deaggregate, hashKeyOf, ShardMap } from '@kinesis-archive/agg';
import {
  createLocalClients,
  createStream,
  readStream,
  startFaultProxy,
  uniqueName,
} from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { PutRecordsFailedError } from '@kinesis-archive/replay';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProducerEvent } from '../src/input.js';
import { createProducer } from '../src/producer.js';
import { splitFirstShard, taggedEvents } from './helpers.js';

const { clients, endpoints } = localAws();
afterAll(() => clients.destroy());

/** The user records on the stream, deaggregated, per key in stream order; checks each sits on its key's shard. */
async function readBack(streamName: string) {
  const shardMap = await ShardMap.load(clients.kinesis, { streamName });
  const byKey = new Map<string, string[]>();
  let kinesisRecords = 0;
  for (const { shardId, records } of await readStream(clients.kinesis, streamName)) {
    for (const record of records) {
      kinesisRecords++;
      for (const user of deaggregate(record)) {
        expect(shardMap.shardFor(hashKeyOf(user.partitionKey))?.shardId).toBe(shardId);
        const list = byKey.get(user.partitionKey) ?? [];
        list.push(Buffer.from(user.data).toString('utf8'));
        byKey.set(user.partitionKey, list);
      }
    }
  }
  return { byKey, kinesisRecords };
}

describe('createProducer', () => {
  it('reloads the shard map as soon as Kinesis puts a record on another shard than predicted (a reshard)', async () => {
    const streamName = uniqueName('producer');
    await createStream(clients.kinesis, streamName, { shards: 1 });
    // a map kept for an hour: only the mismatch can make the producer reload it
    const producer = createProducer({ kinesis: clients.kinesis, streamName, shardMapMaxAgeMs: 3_600_000 });
    expect((await producer.send(taggedEvents('a'))).sent).toBe(200);
    await splitFirstShard(clients.kinesis, streamName);
    // built for the closed parent: Kinesis routes it to one child, carrying sub-records of the other; the
    // producer sends those user records again, each on its own, and reloads the map
    const b = await producer.send(taggedEvents('b'));
    expect(b.sent).toBe(200);
    expect(b.failed).toEqual([]);
    expect(b.resent).toBeGreaterThan(0);
    const c = await producer.send(taggedEvents('c'));
    expect(c.sent).toBe(200);
    expect(c.resent).toBe(0);
    const map = await ShardMap.load(clients.kinesis, { streamName });
    // what a KCL consumer keeps: a user record only in the shard that owns its key
    const kept = new Set<string>();
    for (const { shardId, records } of await readStream(clients.kinesis, streamName)) {
      for (const record of records) {
        for (const user of deaggregate(record)) {
          const text = Buffer.from(user.data).toString('utf8');
          if (text.startsWith('a-')) continue;
          if (text.startsWith('c-'))
            expect(map.shardFor(hashKeyOf(user.partitionKey))?.shardId).toBe(shardId);
          if (map.shardFor(hashKeyOf(user.partitionKey))?.shardId === shardId) kept.add(text);
        }
      }
    }
    // every event of b and c reaches a consumer (b's resent ones at least once)
    expect(kept.size).toBe(400);
  });

  it('puts N events that read back deaggregated exactly, in order per key, each on its key shard', async () => {
    const streamName = uniqueName('producer');
    await createStream(clients.kinesis, streamName, { shards: 3 });
    const events: ProducerEvent[] = [];
    for (let i = 0; i < 2_000; i++) {
      // Strings, JSON objects and multi-byte text.
      const payload = i % 3 === 0 ? `plain ${i}` : i % 3 === 1 ? { i, text: 'zürich ☃' } : `ünïcødé ${i}`;
      events.push({ key: `user-${i % 50}`, payload });
    }
    const producer = createProducer({ kinesis: clients.kinesis, streamName });

    const result = await producer.send(events);

    expect(result).toMatchObject({ received: 2_000, sent: 2_000, failed: [] });
    expect(result.kinesisRecords).toBeLessThan(20);
    const { byKey, kinesisRecords } = await readBack(streamName);
    expect(kinesisRecords).toBe(result.kinesisRecords);
    const expected = new Map<string, string[]>();
    for (const event of events) {
      const text = typeof event.payload === 'string' ? event.payload : JSON.stringify(event.payload);
      expected.set(event.key, [...(expected.get(event.key) ?? []), text]);
    }
    expect(byKey).toEqual(expected);
  });

  it('reports events it cannot send by key and sends the rest', async () => {
    const streamName = uniqueName('producer');
    await createStream(clients.kinesis, streamName, { shards: 1 });
    const producer = createProducer({ kinesis: clients.kinesis, streamName, maxBytes: 4_096 });
    const tooLong = 'k'.repeat(257);
    const result = await producer.send([
      { key: 'a', payload: 'first' },
      { key: tooLong, payload: 'bad key' },
      { key: 'b', payload: 'x'.repeat(5_000) },
      { key: 'c', payload: 'last' },
    ]);

    expect(result.sent).toBe(2);
    expect(result.failed.map((f) => [f.key, (f.error as { code?: string }).code])).toEqual([
      [tooLong, 'INVALID_PARTITION_KEY'],
      ['b', 'RECORD_TOO_LARGE'],
    ]);
    const { byKey } = await readBack(streamName);
    expect(byKey).toEqual(
      new Map([
        ['a', ['first']],
        ['c', ['last']],
      ]),
    );
  });

  it('reuses the shard map across calls', async () => {
    const streamName = uniqueName('producer');
    await createStream(clients.kinesis, streamName, { shards: 2 });
    const producer = createProducer({ kinesis: clients.kinesis, streamName });
    const first = await producer.send([{ key: 'k', payload: '1' }]);
    const second = await producer.send([{ key: 'k', payload: '2' }]);
    expect([first.sent, second.sent]).toEqual([1, 1]);
    const { byKey } = await readBack(streamName);
    expect(byKey.get('k')).toEqual(['1', '2']);
  });
  it('reports the events still unsent when the writer signal aborts, never drops them silently', async () => {
    const streamName = uniqueName('producer');
    await createStream(clients.kinesis, streamName, { shards: 2 });
    // Every PutRecords is throttled: the events wait in the writer for a retry when the signal fires.
    const proxy = await startFaultProxy({
      target: endpoints.kinesis!,
      seed: 3,
      rules: [{ operation: 'PutRecords', fault: 'throttle', probability: 1 }],
    });
    const proxied = createLocalClients(
      { region: endpoints.region, kinesis: proxy.endpoint },
      { maxAttempts: 1 },
    );
    try {
      const controller = new AbortController();
      const producer = createProducer({
        kinesis: proxied.kinesis,
        streamName,
        writer: {
          signal: controller.signal,
          retry: { baseDelayMs: 50, maxDelayMs: 100, maxAttempts: 1_000, budgetMs: 60_000 },
        },
      });
      setTimeout(() => controller.abort(), 500);
      const events = ['a', 'b', 'c', 'd'].map((key) => ({ key, payload: `event ${key}` }));
      const result = await producer.send(events); // buffered at once: the abort comes during the flush
      expect(result.sent + result.failed.length).toBe(events.length);
      expect(result.sent).toBe(0);
      expect(result.failed.map((f) => f.key).sort()).toEqual(['a', 'b', 'c', 'd']);
      expect(result.failed.every((f) => (f.error as { code?: string }).code === 'ABORTED')).toBe(true);
    } finally {
      proxied.destroy();
      await proxy.stop();
    }
  });

  it('stops at once when a request fails for every record (access denied), and reports each event with it', async () => {
    const streamName = uniqueName('producer');
    await createStream(clients.kinesis, streamName, { shards: 2 });
    const proxy = await startFaultProxy({
      target: endpoints.kinesis!,
      seed: 5,
      rules: [
        { operation: 'PutRecords', fault: 'throttle', probability: 1, errorCode: 'AccessDeniedException' },
      ],
    });
    const proxied = createLocalClients(
      { region: endpoints.region, kinesis: proxy.endpoint },
      { maxAttempts: 1 },
    );
    try {
      const producer = createProducer({
        kinesis: proxied.kinesis,
        streamName,
        writer: { maxBufferedRecords: 20 },
      });
      const events = Array.from({ length: 3_000 }, (_, i) => ({
        key: `k${i % 50}`,
        payload: 'x'.repeat(500),
      }));
      const result = await producer.send(events);
      expect(result.sent).toBe(0);
      expect(result.failed).toHaveLength(events.length);
      // the typed error of the writer, naming the AWS error code
      const codes = result.failed.map((f) => (f.error as PutRecordsFailedError).errorCode);
      expect(new Set(codes)).toEqual(new Set(['AccessDeniedException']));
      expect(result.failed.every((f) => f.error instanceof PutRecordsFailedError)).toBe(true);
      expect(result.failed.filter((f) => f.key === 'k7')).toHaveLength(60);
      // stopped at the first refusal: not one request per buffered batch
      expect(proxy.counts().byOperation.PutRecords?.requests ?? 0).toBeLessThanOrEqual(4);
    } finally {
      proxied.destroy();
      await proxy.stop();
    }
  });
});
