#!/usr/bin/env node
/**
 * Replication app: keeps `TARGET_TABLE` a copy of `SOURCE_TABLE` and prints changes as they arrive.
 *
 *   SOURCE_TABLE=orders [TARGET_TABLE=orders-replica] [CHECKPOINT_TABLE=kinesis-archive-checkpoints]
 *   [POLL_INTERVAL_MS=1000] [AWS_REGION=...] [AWS_ENDPOINT_URL_DYNAMODB=... AWS_ENDPOINT_URL_DYNAMODB_STREAMS=...]
 *   npx tsx src/main.ts
 *
 * Ctrl-C stops it after saving the checkpoint; the next start resumes from there.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { formatChange } from './format.js';
import { startReplication } from './replication.js';
import { ensureTargetTable } from './tables.js';

const sourceTable = process.env.SOURCE_TABLE;
if (!sourceTable) {
  console.error('SOURCE_TABLE is required (see the header of src/main.ts)');
  process.exit(2);
}
const targetTable = process.env.TARGET_TABLE || `${sourceTable}-replica`;
const checkpointTable = process.env.CHECKPOINT_TABLE || 'kinesis-archive-checkpoints';
const pollIntervalMs = Number(process.env.POLL_INTERVAL_MS || 1_000);
if (!Number.isFinite(pollIntervalMs) || pollIntervalMs < 0) {
  console.error(`POLL_INTERVAL_MS must be a number of milliseconds, got ${process.env.POLL_INTERVAL_MS}`);
  process.exit(2);
}

// The SDK reads the region, credentials and AWS_ENDPOINT_URL_* from the environment as usual.
const dynamodb = new DynamoDBClient({});
const dynamodbStreams = new DynamoDBStreamsClient({
  // DynamoDB Local serves the streams API on the DynamoDB endpoint.
  ...(process.env.AWS_ENDPOINT_URL_DYNAMODB && !process.env.AWS_ENDPOINT_URL_DYNAMODB_STREAMS
    ? { endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB }
    : {}),
});

if (await ensureTargetTable(dynamodb, sourceTable, targetTable)) console.log(`created ${targetTable}`);
const replication = await startReplication({
  dynamodb,
  dynamodbStreams,
  sourceTable,
  targetTable,
  checkpointTable,
  pollIntervalMs,
  onChange: (change) => console.log(formatChange(change)),
});
console.log(
  `replicating ${sourceTable} -> ${targetTable} (${replication.startedFrom === 'scan' ? 'copied by a scan' : 'resumed from the checkpoint'}); Ctrl-C to stop`,
);
replication.stream.on('data loss', (info) => console.error('data loss:', info));

const shutdown = async (): Promise<void> => {
  await replication.stop();
  dynamodb.destroy();
  dynamodbStreams.destroy();
  console.log('stopped; checkpoint saved');
};
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
