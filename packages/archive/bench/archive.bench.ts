/**
 * Archive writer benchmark against DynamoDB Local (started and stopped here):
 * 20,000 records in batches of 500 over 200 keys with a Zipf (s = 1) distribution.
 *
 * - LATEST: ArchiveWriter vs. a baseline that does one correct conditional PutItem per record (what the old
 *   archiver did), both with the same concurrency.
 * - ALL: ArchiveWriter, DynamoDB requests per record.
 *
 * Run: pnpm --filter @kinesis-archive/archive bench
 */
import { randomBytes } from 'node:crypto';
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { encodeSequenceKey } from '@kinesis-archive/core';
import { createLocalClients, seededRandom, startLocalAws, uniqueName } from '@kinesis-archive/local';
import {
  type ArchiveMode,
  ArchiveReader,
  ArchiveWriter,
  compact,
  createArchiveTable,
  LATEST_CONDITION,
} from '../src/index.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const RECORDS = 20_000;
const BATCH = 500;
const KEYS = 200;
const CONCURRENCY = 8;
const PAYLOAD = 256;

interface Rec {
  partitionKey: string;
  sequenceNumber: string;
  data: Uint8Array;
  approximateArrivalTimestamp: Date;
  shardId: string;
}

function zipfSampler(n: number, s: number, random: () => number): () => number {
  const weights = Array.from({ length: n }, (_, i) => 1 / (i + 1) ** s);
  const total = weights.reduce((a, b) => a + b, 0);
  const cdf: number[] = [];
  let acc = 0;
  for (const w of weights) {
    acc += w / total;
    cdf.push(acc);
  }
  return () => {
    const u = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function makeRecords(): Rec[] {
  const next = zipfSampler(KEYS, 1, seededRandom(20260101));
  const base = 49_600_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000n;
  return Array.from({ length: RECORDS }, (_, i) => ({
    partitionKey: `key-${next()}`,
    sequenceNumber: (base + BigInt(i) * 1000n).toString(),
    data: randomBytes(PAYLOAD),
    approximateArrivalTimestamp: new Date(1_700_000_000_000 + i),
    shardId: 'shardId-000000000000',
  }));
}

function countingClient(
  endpoint: string,
  region: string,
): { client: DynamoDBClient; counts: Map<string, number> } {
  // maxAttempts 1: every request the writer makes is counted once (the writer does its own retries).
  const client = createLocalClients({ region, dynamodb: endpoint }, { maxAttempts: 1 }).dynamodb;
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context.commandName ?? '?').replace(/Command$/, '');
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  return { client, counts };
}

function total(counts: Map<string, number>, names: string[]): number {
  return names.reduce((sum, n) => sum + (counts.get(n) ?? 0), 0);
}

async function baselineLatest(client: DynamoDBClient, tableName: string, batch: Rec[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < batch.length) {
      const r = batch[next++]!;
      const sequenceKey = encodeSequenceKey(r.sequenceNumber, 0);
      try {
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: {
              partitionKey: { S: r.partitionKey },
              sequenceKey: { S: sequenceKey },
              sequenceNumber: { S: r.sequenceNumber },
              subSequenceNumber: { N: '0' },
              recordData: { B: r.data },
              approximateArrivalTimestamp: { N: String(r.approximateArrivalTimestamp.getTime()) },
              shardId: { S: r.shardId },
              lastUpdate: { N: String(Date.now()) },
            },
            ConditionExpression: LATEST_CONDITION,
            ExpressionAttributeValues: { ':newKey': { S: sequenceKey } },
          }),
        );
      } catch (error) {
        if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

async function table(client: DynamoDBClient, mode: ArchiveMode): Promise<string> {
  const tableName = uniqueName(`bench-${mode.toLowerCase()}`);
  await createArchiveTable(client, { tableName, mode });
  return tableName;
}

async function main(): Promise<void> {
  const aws = await startLocalAws({ dynamodb: true, kinesis: false });
  try {
    const { region } = aws.endpoints;
    const endpoint = aws.endpoints.dynamodb!;
    const records = makeRecords();
    const batches: Rec[][] = [];
    for (let i = 0; i < records.length; i += BATCH) batches.push(records.slice(i, i + BATCH));
    const distinctPerBatch = batches.map((b) => new Set(b.map((r) => r.partitionKey)).size);
    const bound = distinctPerBatch.reduce((a, b) => a + b, 0) / records.length;

    // Warm-up (JIT, DynamoDB Local) on a throwaway table.
    {
      const { client } = countingClient(endpoint, region);
      const warm = await table(client, 'LATEST');
      await new ArchiveWriter({ dynamodb: client, tableName: warm, mode: 'LATEST' }).write(batches[0]!);
      await baselineLatest(client, warm, batches[1]!);
      client.destroy();
    }

    // Baseline: one conditional PutItem per record.
    const base = countingClient(endpoint, region);
    const baseTable = await table(base.client, 'LATEST');
    base.counts.clear();
    let t0 = performance.now();
    for (const batch of batches) await baselineLatest(base.client, baseTable, batch);
    const baseSeconds = (performance.now() - t0) / 1000;
    const baseRequests = total(base.counts, ['PutItem']);

    // LATEST writer.
    const latest = countingClient(endpoint, region);
    const latestTable = await table(latest.client, 'LATEST');
    const writer = new ArchiveWriter({
      dynamodb: latest.client,
      tableName: latestTable,
      mode: 'LATEST',
      concurrency: CONCURRENCY,
    });
    latest.counts.clear();
    let written = 0;
    let failed = 0;
    t0 = performance.now();
    for (const batch of batches) {
      const r = await writer.write(batch);
      written += r.written;
      failed += r.failed.length;
    }
    const latestSeconds = (performance.now() - t0) / 1000;
    const latestWrites = total(latest.counts, ['PutItem', 'UpdateItem', 'BatchWriteItem']);

    // Same final content as the baseline.
    const reader = new ArchiveReader({
      dynamodb: latest.client,
      tableName: latestTable,
      mode: 'LATEST',
      consistentRead: true,
    });
    const baseReader = new ArchiveReader({
      dynamodb: base.client,
      tableName: baseTable,
      mode: 'LATEST',
      consistentRead: true,
    });
    const newest = new Map<string, string>();
    for (const r of records) newest.set(r.partitionKey, r.sequenceNumber);
    let mismatches = 0;
    for (const [key, sequenceNumber] of newest) {
      if ((await reader.get(key))?.sequenceNumber !== sequenceNumber) mismatches++;
      if ((await baseReader.get(key))?.sequenceNumber !== sequenceNumber) mismatches++;
    }

    // ALL writer.
    const all = countingClient(endpoint, region);
    const allTable = await table(all.client, 'ALL');
    const allWriter = new ArchiveWriter({
      dynamodb: all.client,
      tableName: allTable,
      mode: 'ALL',
      concurrency: CONCURRENCY,
    });
    all.counts.clear();
    let allWritten = 0;
    t0 = performance.now();
    for (const batch of batches) allWritten += (await allWriter.write(batch)).written;
    const allSeconds = (performance.now() - t0) / 1000;
    const allRequests = [...all.counts.values()].reduce((a, b) => a + b, 0);

    // asOf vs a plain scan of the same ALL table (3 interleaved rounds, median), and compact vs feeding the
    // LATEST writer the same records (measured above).
    const allReader = new ArchiveReader({ dynamodb: all.client, tableName: allTable, mode: 'ALL' });
    const scanTimes: number[] = [];
    const asOfTimes: number[] = [];
    let scanned = 0;
    let states = 0;
    for (let round = 0; round < 3; round++) {
      t0 = performance.now();
      scanned = 0;
      for await (const _ of allReader.scan()) scanned++;
      scanTimes.push((performance.now() - t0) / 1000);
      t0 = performance.now();
      states = 0;
      for await (const _ of allReader.asOf(Date.now())) states++;
      asOfTimes.push((performance.now() - t0) / 1000);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    const scanSeconds = median(scanTimes);
    const asOfSeconds = median(asOfTimes);
    const compactTable = await table(all.client, 'LATEST');
    t0 = performance.now();
    const compacted = await compact({
      source: allReader,
      target: new ArchiveWriter({
        dynamodb: all.client,
        tableName: compactTable,
        mode: 'LATEST',
        concurrency: CONCURRENCY,
      }),
      totalSegments: 4,
    });
    const compactSeconds = (performance.now() - t0) / 1000;
    const compactReader = new ArchiveReader({
      dynamodb: all.client,
      tableName: compactTable,
      mode: 'LATEST',
      consistentRead: true,
    });
    let compactMismatches = 0;
    for (const [key, sequenceNumber] of newest) {
      if ((await compactReader.get(key))?.sequenceNumber !== sequenceNumber) compactMismatches++;
    }

    const rows = [
      [
        'records / batch size / keys',
        `${RECORDS} / ${BATCH} / ${KEYS} (Zipf s=1), ${PAYLOAD} B payloads, concurrency ${CONCURRENCY}`,
      ],
      [
        'distinct keys per batch (mean)',
        (distinctPerBatch.reduce((a, b) => a + b, 0) / batches.length).toFixed(1),
      ],
      ['LATEST bound: distinct keys per batch / batch size', bound.toFixed(4)],
      ['LATEST writer: write requests per record', (latestWrites / RECORDS).toFixed(4)],
      ['LATEST writer: records/s', (RECORDS / latestSeconds).toFixed(0)],
      [
        'baseline (1 conditional PutItem per record): write requests per record',
        (baseRequests / RECORDS).toFixed(4),
      ],
      ['baseline: records/s', (RECORDS / baseSeconds).toFixed(0)],
      ['LATEST speed-up over baseline', `${(baseSeconds / latestSeconds).toFixed(2)}x`],
      ['ALL writer: DynamoDB requests per record', (allRequests / RECORDS).toFixed(4)],
      ['ALL writer: records/s', (RECORDS / allSeconds).toFixed(0)],
      ['ALL scan: records/s', (scanned / scanSeconds).toFixed(0)],
      [
        'asOf (state of every key) over the same table: records read/s, and vs the scan (goal >= 90%)',
        `${(RECORDS / asOfSeconds).toFixed(0)} (${((100 * scanSeconds) / asOfSeconds).toFixed(0)}%), ${states} keys`,
      ],
      [
        'compact ALL -> LATEST: records/s, vs the LATEST writer fed the same records (goal >= 90%)',
        `${(RECORDS / compactSeconds).toFixed(0)} (${((100 * latestSeconds) / compactSeconds).toFixed(0)}%), ${compacted.written} keys written`,
      ],
    ];
    console.log('| measure | value |\n|---|---|');
    for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
    console.log(
      `\nchecks: LATEST written=${written} failed=${failed} keys=${newest.size} mismatches=${mismatches}; ALL written=${allWritten}; asOf keys=${states}; compact mismatches=${compactMismatches}`,
    );
    const ok =
      failed === 0 &&
      mismatches === 0 &&
      allWritten === RECORDS &&
      latestWrites / RECORDS <= bound &&
      baseSeconds / latestSeconds >= 3 &&
      allRequests / RECORDS <= 0.05 &&
      compactMismatches === 0 &&
      states === newest.size &&
      scanned === RECORDS;
    console.log(ok ? 'targets: met' : 'targets: NOT met');
    for (const c of [base.client, latest.client, all.client]) c.destroy();
    if (!ok) process.exitCode = 1;
  } finally {
    await aws.stop();
  }
}

await main();
