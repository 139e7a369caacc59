/**
 * Benchmark of @kinesis-archive/agg against aws-kinesis-agg 4.2.8 and the MD5 floor.
 * Run: `pnpm --filter @kinesis-archive/agg bench` (node --expose-gc --import tsx bench/agg.bench.ts).
 * 100,000 user records of 1 KiB with 20-character random partition keys; median of 5 runs.
 */
import * as crypto from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  type AggregatedRecord,
  Aggregator,
  aggregate,
  deaggregate,
  MAX_HASH_KEY,
  type ShardDescription,
  ShardMap,
  type UserRecord,
} from '../src/index.js';
import { type TheirRecord, theirs } from '../test/aws-kinesis-agg.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const RECORD_BYTES = 1024;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** The fastest MD5 node:crypto offers: the one-shot `crypto.hash` (Node >= 20.12), else createHash. */
type HashFn = (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer;
const oneShot = (crypto as unknown as { hash?: HashFn }).hash;
const md5: (data: Uint8Array) => Buffer = oneShot
  ? (data) => oneShot('md5', data, 'buffer')
  : (data) => crypto.createHash('md5').update(data).digest();
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomKey(): string {
  const bytes = randomBytes(20);
  let s = '';
  for (const b of bytes) s += ALPHABET[b % ALPHABET.length];
  return s;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

type Op = () => unknown | Promise<unknown>;

/** Runs every op once as warm-up, then RUNS rounds in which each op runs once (interleaved, so that a
 * busy machine slows all of them alike); returns the median time of each op in ms. */
async function timeAll(ops: Record<string, Op>): Promise<Record<string, number>> {
  const times: Record<string, number[]> = {};
  for (const [name, fn] of Object.entries(ops)) {
    await fn();
    times[name] = [];
  }
  for (let i = 0; i < RUNS; i++) {
    for (const [name, fn] of Object.entries(ops)) {
      gc();
      const t0 = performance.now();
      await fn();
      times[name]!.push(performance.now() - t0);
    }
  }
  return Object.fromEntries(Object.entries(times).map(([name, xs]) => [name, median(xs)]));
}

const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

/** A map of `n` open shards of equal width over the whole hash range (a stream created with `n` shards). */
function evenShardMap(n: number): ShardMap {
  const width = (MAX_HASH_KEY + 1n) / BigInt(n);
  const shards: ShardDescription[] = Array.from({ length: n }, (_, i) => ({
    ShardId: `shardId-${String(i).padStart(12, '0')}`,
    HashKeyRange: {
      StartingHashKey: (width * BigInt(i)).toString(),
      EndingHashKey: (i === n - 1 ? MAX_HASH_KEY : width * BigInt(i + 1) - 1n).toString(),
    },
  }));
  return new ShardMap(shards);
}
const oneShard = evenShardMap(1);
const shards64 = evenShardMap(64);

async function main(): Promise<void> {
  // Both libraries get the very same record objects.
  const records: (UserRecord & TheirRecord & { data: Buffer })[] = [];
  let inputBytes = 0;
  for (let i = 0; i < RECORDS; i++) {
    const data = randomBytes(RECORD_BYTES);
    const partitionKey = randomKey();
    records.push({ partitionKey, data });
    inputBytes += RECORD_BYTES + partitionKey.length;
  }

  // MD5 floor: the same bytes, hashed in ~1 MiB contiguous chunks (as an aggregate is).
  const chunks: Buffer[] = [];
  for (let i = 0; i < records.length; i += 1000) {
    chunks.push(Buffer.concat(records.slice(i, i + 1000).map((r) => r.data)));
  }
  const chunkBytes = chunks[0]!.length;
  const check = (what: string, n: number) => {
    if (n !== RECORDS) throw new Error(`${what}: ${n} records instead of ${RECORDS}`);
  };
  const copyMd5 = (keep: boolean) => {
    const kept: Buffer[] = [];
    let buf = Buffer.allocUnsafeSlow(chunkBytes);
    let p = 0;
    for (const r of records) {
      if (p + r.data.length > chunkBytes) {
        md5(buf.subarray(0, p));
        if (keep) kept.push(buf);
        buf = Buffer.allocUnsafeSlow(chunkBytes);
        p = 0;
      }
      buf.set(r.data, p);
      p += r.data.length;
    }
    md5(buf.subarray(0, p));
    kept.push(buf);
    return kept.length;
  };
  // Phase 1: aggregation, with only the input (and the MD5 chunks) in memory.
  let theirCount = 0;
  const t1 = await timeAll({
    md5Input: () => {
      for (const c of chunks) md5(c);
    },
    // References, not targets: the least any aggregator does besides MD5 (a fresh output buffer per aggregate,
    // every record copied into it once, MD5 over it), with no framing or bookkeeping at all; each buffer dropped
    // at once (as a producer that sends and forgets), or all kept (as a returned array).
    copyMd5Input: () => copyMd5(false),
    copyMd5Kept: () => copyMd5(true),
    // aggregate() returning every aggregate: without a map (mixShards), with a one-shard and a 64-shard map
    oursAggMixed: () =>
      check(
        'ours aggregate (mixShards)',
        aggregate(records, { mixShards: true }).reduce((n, r) => n + r.recordCount, 0),
      ),
    oursAggOneShard: () =>
      check(
        'ours aggregate (1 shard)',
        aggregate(records, { shardMap: oneShard }).reduce((n, r) => n + r.recordCount, 0),
      ),
    oursAgg: () =>
      check(
        'ours aggregate (64 shards)',
        aggregate(records, { shardMap: shards64 }).reduce((n, r) => n + r.recordCount, 0),
      ),
    // The same work as aws-kinesis-agg's callback below: each aggregate is handed over and dropped.
    oursAggregator: () => {
      const aggregator = new Aggregator({ shardMap: shards64 });
      let n = 0;
      for (const r of records) for (const a of aggregator.add(r)) n += a.recordCount;
      for (const a of aggregator.flush()) n += a.recordCount;
      check('ours Aggregator', n);
    },
    theirsAgg: () =>
      new Promise<void>((resolve, reject) => {
        let n = 0;
        theirs.aggregate(
          records,
          (_rec, cb) => {
            n++;
            cb();
          },
          () => {
            theirCount = n;
            resolve();
          },
          reject,
        );
      }),
  });
  chunks.length = 0;

  // Peak memory while aggregating (incremental, sampled every 500 records), above the baseline with the input
  // already in memory. Counts heap + external (Buffers).
  // let the array-buffer sweeper free the backing stores of earlier garbage before taking the baseline
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 100));
  }
  const mem = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  const base = mem();
  const baseRss = process.memoryUsage().rss;
  let peak = 0;
  let peakRss = 0;
  const aggregator = new Aggregator({ shardMap: shards64 });
  const kept: AggregatedRecord[] = [];
  for (let i = 0; i < records.length; i++) {
    for (const r of aggregator.add(records[i]!)) kept.push(r);
    if (i % 500 === 0) {
      peak = Math.max(peak, mem() - base);
      peakRss = Math.max(peakRss, process.memoryUsage().rss - baseRss);
    }
  }
  for (const r of aggregator.flush()) kept.push(r);
  if (kept.reduce((n, r) => n + r.recordCount, 0) !== RECORDS) throw new Error('memory run lost records');
  peak = Math.max(peak, mem() - base);
  peakRss = Math.max(peakRss, process.memoryUsage().rss - baseRss);

  // Phase 2: deaggregation of our aggregates, as Buffers and as Lambda events. Like a consumer process, it holds
  // only the aggregates (the producer's input is dropped).
  // one aggregate stream for the deaggregation runs: as aws-kinesis-agg packs them (no map), so counts compare
  const ours = aggregate(records, { mixShards: true });
  kept.length = 0;
  records.length = 0;
  if (theirCount !== ours.length) throw new Error(`aws-kinesis-agg emitted ${theirCount} records`);
  const aggBytes = ours.reduce((n, r) => n + r.data.length, 0);
  // Deaggregation inputs: GetRecords (SDK v3) records with Buffers, the same objects for both libraries, and
  // Lambda events (base64): ours takes the event record, aws-kinesis-agg its `.kinesis` payload.
  const seq = '49545115243490985018280067714973144582180062593244200961';
  const getRecords = ours.map((r) => ({ Data: r.data, PartitionKey: r.partitionKey, SequenceNumber: seq }));
  const events = ours.map((r) => ({
    eventSource: 'aws:kinesis',
    eventID: `shardId-000000000000:${seq}`,
    eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/bench',
    kinesis: {
      partitionKey: r.partitionKey,
      sequenceNumber: seq,
      data: Buffer.from(r.data).toString('base64'),
      approximateArrivalTimestamp: 1_700_000_000.5,
    },
  }));
  const aggChunks = ours.map((r) => Buffer.from(r.data).subarray(4, r.data.length - 16));
  const base64Of = events.map((e) => e.kinesis.data);

  const theirDeagg = (input: object) => {
    let n = 0;
    theirs.deaggregateSync(input, true, (err, recs) => {
      if (err) throw err;
      n = recs!.length;
    });
    return n;
  };
  const t2 = await timeAll({
    md5Aggregates: () => {
      for (const c of aggChunks) md5(c);
    },
    // Reference, not a target: base64-decoding the Lambda payloads (into fresh buffers) and MD5 over them.
    decodeMd5Aggregates: () => {
      for (const s of base64Of) {
        const b = Buffer.from(s, 'base64');
        md5(b.subarray(4, b.length - 16));
      }
    },
    oursDeagg: () => {
      let n = 0;
      for (const r of getRecords) n += deaggregate(r).length;
      check('ours deaggregate', n);
    },
    theirsDeagg: () => {
      let n = 0;
      for (const r of getRecords) n += theirDeagg(r);
      check('aws-kinesis-agg deaggregate', n);
    },
    oursLambda: () => {
      let n = 0;
      for (const e of events) n += deaggregate(e).length;
      check('ours deaggregate (Lambda)', n);
    },
    theirsLambda: () => {
      let n = 0;
      for (const e of events) n += theirDeagg(e.kinesis);
      check('aws-kinesis-agg deaggregate (Lambda)', n);
    },
  });

  const row = (name: string, bytes: number, oursMs: number, theirsMs: number, floorMs: number) =>
    `| ${name} | ${mbps(bytes, oursMs).toFixed(0)} | ${mbps(bytes, theirsMs).toFixed(0)} | ${(theirsMs / oursMs).toFixed(2)}x | ${mbps(bytes, floorMs).toFixed(0)} | ${((100 * floorMs) / oursMs).toFixed(0)}% |`;
  console.log(
    `node ${process.version}, ${cpus()[0]?.model ?? 'cpu'}; ${RECORDS} records x ${RECORD_BYTES} B, 20-char keys; median of ${RUNS}`,
  );
  console.log(
    `input ${(inputBytes / 1e6).toFixed(1)} MB -> ${ours.length} aggregates, ${(aggBytes / 1e6).toFixed(1)} MB`,
  );
  console.log('');
  console.log('| operation | ours MB/s | aws-kinesis-agg MB/s | speed-up | MD5 floor MB/s | of floor |');
  console.log('|---|---|---|---|---|---|');
  console.log(
    row(
      'aggregate (Aggregator.add, 64-shard map, each aggregate dropped)',
      inputBytes,
      t1.oursAggregator!,
      t1.theirsAgg!,
      t1.md5Input!,
    ),
  );
  console.log(
    row(
      'aggregate() no map (mixShards: true), all returned',
      inputBytes,
      t1.oursAggMixed!,
      t1.theirsAgg!,
      t1.md5Input!,
    ),
  );
  console.log(
    row(
      'aggregate() 1-shard map, all returned',
      inputBytes,
      t1.oursAggOneShard!,
      t1.theirsAgg!,
      t1.md5Input!,
    ),
  );
  console.log(
    row('aggregate() 64-shard map, all returned', inputBytes, t1.oursAgg!, t1.theirsAgg!, t1.md5Input!),
  );
  console.log(
    row('deaggregate (Buffers, MD5 verified)', aggBytes, t2.oursDeagg!, t2.theirsDeagg!, t2.md5Aggregates!),
  );
  console.log(
    row(
      'deaggregate (Lambda base64 events, MD5 verified)',
      aggBytes,
      t2.oursLambda!,
      t2.theirsLambda!,
      t2.md5Aggregates!,
    ),
  );
  console.log('');
  console.log(
    `references (least work besides MD5): fresh buffers + one copy + MD5 ${mbps(inputBytes, t1.copyMd5Input!).toFixed(0)} MB/s dropped (${((100 * t1.md5Input!) / t1.copyMd5Input!).toFixed(0)}% of the floor; ours ${((100 * t1.copyMd5Input!) / t1.oursAggregator!).toFixed(0)}% of it), ${mbps(inputBytes, t1.copyMd5Kept!).toFixed(0)} MB/s kept (${((100 * t1.md5Input!) / t1.copyMd5Kept!).toFixed(0)}% of the floor; ours ${((100 * t1.copyMd5Kept!) / t1.oursAgg!).toFixed(0)}% of it); base64 decode + MD5 ${mbps(aggBytes, t2.decodeMd5Aggregates!).toFixed(0)} MB/s (ours ${((100 * t2.decodeMd5Aggregates!) / t2.oursLambda!).toFixed(0)}% of it)`,
  );
  console.log(
    `ceilings: the MD5 floor itself is ${(t1.theirsAgg! / t1.md5Input!).toFixed(2)}x aws-kinesis-agg's aggregate, ${(t2.theirsDeagg! / t2.md5Aggregates!).toFixed(2)}x its deaggregate from Buffers and ${(t2.theirsLambda! / t2.md5Aggregates!).toFixed(2)}x from Lambda events (nothing that computes or verifies every MD5 can be faster)`,
  );
  const guard = (name: string, value: number, ok: boolean, target: string) =>
    console.log(`- ${name}: ${value.toFixed(2)} (${target}) ${ok ? 'ok' : 'MISSED'}`);
  console.log('');
  console.log('regression guards:');
  const speedUp = t1.theirsAgg! / t1.oursAgg!;
  guard('aggregate() 64-shard map vs aws-kinesis-agg', speedUp, speedUp >= 1.5, 'target >= 1.50x');
  const mapCost = t1.oursAgg! / t1.oursAggMixed!;
  guard('aggregate() time, 64-shard map / no map', mapCost, mapCost <= 1.1, 'target <= 1.10');
  const oneCost = t1.oursAggOneShard! / t1.oursAggMixed!;
  guard('aggregate() time, 1-shard map / no map', oneCost, oneCost <= 1.1, 'target <= 1.10');
  const deaggFloor = t2.md5Aggregates! / t2.oursDeagg!;
  guard('deaggregate (Buffers) / MD5 floor', deaggFloor, deaggFloor >= 0.85, 'target >= 0.85');
  const lambdaFloor = t2.md5Aggregates! / t2.oursLambda!;
  guard('deaggregate (Lambda events) / MD5 floor', lambdaFloor, lambdaFloor >= 0.65, 'target >= 0.65');
  console.log(
    `peak memory while aggregating (heap + external above baseline): ${(peak / 1e6).toFixed(1)} MB = ${(peak / inputBytes).toFixed(2)}x input; rss +${(peakRss / 1e6).toFixed(1)} MB = ${(peakRss / inputBytes).toFixed(2)}x`,
  );
}

await main();
