/**
 * A leased consumer in a process of its own, for the lease test with SIGKILL: reads the stream KA_STREAM_ARN
 * served at KA_STREAMS (a fake), with the lease table KA_LEASE_TABLE in DynamoDB Local at KA_DYNAMODB, as worker
 * KA_WORKER. It prints `rec <worker> <shardId> <sequenceNumber> <key> <value>` for each change it delivered and
 * stops gracefully (checkpoints, then releases its leases) on SIGTERM.
 */
import { createLocalClients } from '@kinesis-archive/local';
import { DynamoDBStream } from '../src/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const region = env('KA_REGION');
const worker = env('KA_WORKER');
const dynamodb = createLocalClients({ region, dynamodb: env('KA_DYNAMODB') }).dynamodb;
const streams = createLocalClients({ region, dynamodb: env('KA_STREAMS') }).dynamodbStreams;
const stream = new DynamoDBStream({
  client: streams,
  streamArn: env('KA_STREAM_ARN'),
  retry: { baseDelayMs: 5 },
  leases: {
    dynamodb,
    tableName: env('KA_LEASE_TABLE'),
    workerId: worker,
    leaseDurationMs: Number(env('KA_LEASE_MS')),
  },
});
stream.on('record', (r) => {
  process.stdout.write(
    `rec ${worker} ${r.shardId} ${r.sequenceNumber} ${String(r.keys.id)} ${String(r.newImage?.v)}\n`,
  );
});
stream.on('error', (error) => process.stderr.write(`${worker}: ${String(error)}\n`));
stream.start({ pollIntervalMs: 50, shardDiscoveryIntervalMs: 300 });
process.on('SIGTERM', () => {
  void stream.stop().then(() => process.exit(0));
});
