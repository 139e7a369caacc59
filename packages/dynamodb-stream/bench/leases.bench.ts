// Leases: how long a surviving worker takes to own the shards of a worker that died, against the lease duration.
// The lease table is in DynamoDB Local (started and stopped here); the stream is a 16-shard fake. The dead
// worker's DynamoDB client fails every call from the moment it "dies", as if its process were gone.
// Run: pnpm --filter @kinesis-archive/dynamodb-stream bench
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startLocalAws, uniqueName } from '@kinesis-archive/local';
import { DynamoDBStream } from '../src/index.js';
import { FakeStreams, makeRecord } from '../test/fake-streams.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const SHARDS = 16;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(10);
  }
}

const aws = await startLocalAws({ kinesis: false });
try {
  for (const leaseDurationMs of [2_000, 5_000, 10_000]) {
    const fake = new FakeStreams();
    for (let i = 0; i < SHARDS; i++) {
      fake.addShard(`shard-${i}`);
      fake.put(`shard-${i}`, makeRecord('INSERT', `k${i}`, { id: { S: `k${i}` } }));
    }
    const tableName = uniqueName('leases');
    let dead = false;
    const real = aws.clients.dynamodb;
    const dying = {
      send: (command: Parameters<DynamoDBClient['send']>[0]) =>
        dead ? Promise.reject(new Error('the process is gone')) : real.send(command),
    } as unknown as DynamoDBClient;
    const consumer = (workerId: string, dynamodb: DynamoDBClient) => {
      const stream = new DynamoDBStream({
        client: fake,
        streamArn: 'arn:bench:leases',
        leases: { dynamodb, tableName, workerId, leaseDurationMs },
      });
      stream.on('error', () => undefined);
      stream.start({ pollIntervalMs: 100, shardDiscoveryIntervalMs: 1_000 });
      return stream;
    };
    const a = consumer('a', dying);
    await until(() => a.leasedShards.length === SHARDS, 30_000);
    const b = consumer('b', real);
    await until(() => a.leasedShards.length === SHARDS / 2 && b.leasedShards.length === SHARDS / 2, 60_000);
    dead = true;
    const diedAt = performance.now();
    await until(() => b.leasedShards.length === SHARDS, leaseDurationMs * 5);
    const takeover = performance.now() - diedAt;
    await Promise.all([a.stop(), b.stop()]);
    console.log(
      `lease ${leaseDurationMs} ms: the survivor owned the dead worker's ${SHARDS / 2} shards after ${Math.round(takeover)} ms (${(takeover / leaseDurationMs).toFixed(2)}x the lease)`,
    );
  }
} finally {
  await aws.stop();
}
