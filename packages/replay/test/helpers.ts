import { type KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { deaggregate } from '@kinesis-archive/agg';
import {
  createLocalClients,
  createStream as createLocalStream,
  type FaultProxy,
  readStream as readLocalStream,
  startFaultProxy,
  uniqueName,
} from '@kinesis-archive/local';
import { afterEach, expect } from 'vitest';
import type { ReplayCheckpoint, ReplayRecord } from '../src/index.js';

/** Creates a fresh, uniquely named ACTIVE stream and returns its name. */
export async function createStream(kinesis: KinesisClient, shards = 2): Promise<string> {
  const name = uniqueName('replay');
  await createLocalStream(kinesis, name, { shards });
  return name;
}

/** A user record read back from the stream, deaggregated. */
export interface ReadBack {
  partitionKey: string;
  explicitHashKey?: string | undefined;
  data: Buffer;
  shardId: string;
  aggregated: boolean;
}

/** Reads every shard from TRIM_HORIZON and deaggregates; records of each shard in stream order. */
export async function readStream(kinesis: KinesisClient, streamName: string): Promise<ReadBack[]> {
  return (await readLocalStream(kinesis, streamName)).flatMap(({ shardId, records }) =>
    records.flatMap((r) =>
      deaggregate(r, { onInvalid: 'passthrough' }).map((u) => ({
        partitionKey: u.partitionKey,
        explicitHashKey: u.explicitHashKey,
        data: Buffer.from(u.data),
        shardId,
        aggregated: u.aggregated,
      })),
    ),
  );
}

/** Groups payloads (hex) by partition key, in order. */
export function byKey(records: { partitionKey: string; data: Uint8Array | string }[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const r of records) {
    const hex = Buffer.from(r.data as Uint8Array).toString('hex');
    const list = map.get(r.partitionKey);
    if (list) list.push(hex);
    else map.set(r.partitionKey, [hex]);
  }
  return map;
}

/** Asserts the stream holds exactly the source records: same keys, bytes, and per-key order. */
export function expectSameContent(source: ReplayRecord[], stream: ReadBack[]): void {
  expect(stream.length).toBe(source.length);
  const want = byKey(source);
  const got = byKey(stream);
  expect(got.size).toBe(want.size);
  for (const [key, list] of want) expect(got.get(key), `key ${key}`).toEqual(list);
}

/** `n` records over `keys` keys with binary payloads (every byte value appears), in per-key sequence order. */
export function makeRecords(n: number, keys: number, size = 64): ReplayRecord[] {
  const records: ReplayRecord[] = [];
  const seq = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const key = `key-${(i * 7919) % keys}`;
    const s = (seq.get(key) ?? 0) + 1;
    seq.set(key, s);
    const data = Buffer.alloc(size);
    for (let j = 0; j < size; j++) data[j] = (i + j * 31) & 0xff;
    data.writeUInt32BE(i, 0);
    records.push({ partitionKey: key, data, sequenceNumber: String(1000 + i), subSequenceNumber: 0 });
  }
  return records;
}

/** An async iterable over the records (as a slow-ish source would give them). */
export async function* iterate<T>(records: T[]): AsyncIterable<T> {
  for (const r of records) yield r;
}

/**
 * Reads the stream as a KCL consumer does: each shard's aggregates deaggregated with the shard's hash key range,
 * and an aggregate holding a sub-record outside that range dropped whole.
 */
export async function readAsKcl(kinesis: KinesisClient, streamName: string): Promise<ReadBack[]> {
  const ranges = new Map<string, { startingHashKey: string; endingHashKey: string }>();
  let token: string | undefined;
  do {
    const page = await kinesis.send(
      token ? new ListShardsCommand({ NextToken: token }) : new ListShardsCommand({ StreamName: streamName }),
    );
    for (const s of page.Shards ?? []) {
      ranges.set(s.ShardId!, {
        startingHashKey: s.HashKeyRange!.StartingHashKey!,
        endingHashKey: s.HashKeyRange!.EndingHashKey!,
      });
    }
    token = page.NextToken;
  } while (token);
  const out: ReadBack[] = [];
  for (const { shardId, records } of await readLocalStream(kinesis, streamName)) {
    for (const r of records) {
      const users = deaggregate(r, { onInvalid: 'passthrough', hashKeyRange: ranges.get(shardId)! });
      if (users.some((u) => u.outOfRange)) continue; // dropped, as the KCL drops it
      for (const u of users) {
        out.push({
          partitionKey: u.partitionKey,
          explicitHashKey: u.explicitHashKey,
          data: Buffer.from(u.data),
          shardId,
          aggregated: u.aggregated,
        });
      }
    }
  }
  return out;
}

/** Records of a single-unit iterable replay the checkpoint has passed (its cursor's index + 1). */
export function settledCount(c: ReplayCheckpoint): number {
  const after = Object.values(c.units)[0]?.after;
  return after && 'index' in after ? after.index + 1 : 0;
}

/** A checkpoint store in memory that keeps every save (a deep copy), and loads the last one. */
export function memoryStore() {
  const saved: ReplayCheckpoint[] = [];
  return {
    saved,
    load: () => saved.at(-1),
    save: (c: ReplayCheckpoint) => void saved.push(structuredClone(c)),
  };
}

/**
 * A fault proxy in front of the test's kinesis-mock, started by `through(rules)` and stopped (with its client)
 * after each test.
 */
export function faultProxies(
  endpoints: { kinesis?: string | undefined; region: string },
  defaultSeed: number,
) {
  let proxy: FaultProxy | undefined;
  let proxied: ReturnType<typeof createLocalClients> | undefined;
  afterEach(async () => {
    proxied?.destroy();
    await proxy?.stop();
    proxy = undefined;
    proxied = undefined;
  });
  return {
    /** A Kinesis client whose requests go through a new proxy with these rules. */
    async through(rules: Parameters<typeof startFaultProxy>[0]['rules'], seed = defaultSeed) {
      proxy = await startFaultProxy({ target: endpoints.kinesis!, seed, rules });
      proxied = createLocalClients({ region: endpoints.region, kinesis: proxy.endpoint });
      return proxied.kinesis;
    },
    /** The proxy of the running test. */
    get proxy(): FaultProxy {
      if (!proxy) throw new Error('no fault proxy started in this test');
      return proxy;
    },
  };
}
