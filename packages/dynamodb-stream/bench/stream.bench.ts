// Throughput and latency of DynamoDBStream against DynamoDB Local (started and stopped here).
// Run: pnpm --filter @kinesis-archive/dynamodb-stream bench
import { BatchWriteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { startLocalAws } from '@kinesis-archive/local';
import { DynamoDBStream } from '../src/index.js';
import { createStreamTable } from '../test/tables.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const CHANGES = 10_000;
const LATENCY_SAMPLES = 400;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const aws = await startLocalAws({ kinesis: false });
const { dynamodb, dynamodbStreams } = aws.clients;
try {
  // 1. Events per second from a stream holding 10,000 changes.
  const { tableName, streamArn } = await createStreamTable(dynamodb);
  const batches = Array.from({ length: CHANGES / 25 }, (_, b) => b);
  const writer = async () => {
    for (let b = batches.shift(); b !== undefined; b = batches.shift()) {
      const items = Array.from({ length: 25 }, (_, i) => ({
        PutRequest: {
          Item: { id: { S: `item-${b * 25 + i}` }, n: { N: String(i) }, text: { S: 'x'.repeat(100) } },
        },
      }));
      await dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: items } }));
    }
  };
  await Promise.all(Array.from({ length: 8 }, writer));

  // The floor: bare GetRecords calls, no decoding (DynamoDB Local itself is the bottleneck).
  const rawRead = async (): Promise<number> => {
    const shards = await dynamodbStreams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    const ShardId = shards.StreamDescription!.Shards![0]!.ShardId!;
    let iterator = (
      await dynamodbStreams.send(
        new GetShardIteratorCommand({ StreamArn: streamArn, ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
      )
    ).ShardIterator;
    let n = 0;
    while (n < CHANGES) {
      const out = await dynamodbStreams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      n += out.Records?.length ?? 0;
      iterator = out.NextShardIterator;
    }
    return n;
  };
  await rawRead(); // warm-up (JIT of DynamoDB Local and of Node), not measured

  for (const mode of ['raw GetRecords', 'events', 'iterator'] as const) {
    const stream = new DynamoDBStream({ client: dynamodbStreams, streamArn });
    let events = 0;
    const started = performance.now();
    if (mode === 'raw GetRecords') {
      events = await rawRead();
    } else if (mode === 'events') {
      stream.on('insert record', () => {
        events++;
      });
      while (events < CHANGES) await stream.fetchStreamState();
    } else {
      for await (const batch of stream.batches({ pollIntervalMs: 10 })) {
        events += batch.records.length;
        if (events >= CHANGES) break;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `${mode}: ${events} changes in ${seconds.toFixed(2)} s = ${Math.round(events / seconds)} events/s`,
    );
  }

  // 2. Latency from a write to its event at a 250 ms poll interval.
  const latency = await createStreamTable(dynamodb);
  const stream = new DynamoDBStream({ client: dynamodbStreams, streamArn: latency.streamArn });
  const sentAt = new Map<string, number>();
  const samples: number[] = [];
  stream.on('insert record', (_image, keys) => {
    const t = sentAt.get(String(keys.id));
    if (t !== undefined) samples.push(performance.now() - t);
  });
  stream.start({ pollIntervalMs: 250 });
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const id = `l-${i}`;
    sentAt.set(id, performance.now());
    await dynamodb.send(new PutItemCommand({ TableName: latency.tableName, Item: { id: { S: id } } }));
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
  }
  while (samples.length < LATENCY_SAMPLES) await new Promise((r) => setTimeout(r, 100));
  await stream.stop();
  samples.sort((a, b) => a - b);
  console.log(
    `latency at pollIntervalMs 250 (${samples.length} writes): p50 ${Math.round(percentile(samples, 50))} ms, p99 ${Math.round(percentile(samples, 99))} ms`,
  );
} finally {
  await aws.stop();
}
