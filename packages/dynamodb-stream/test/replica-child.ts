/**
 * A table replica in a process of its own, for the kill-and-restart test: copies the table KA_SOURCE into the
 * table KA_TARGET (DynamoDB Local at KA_DYNAMODB), resuming from the checkpoint KA_CHECKPOINT_TABLE / "replica".
 * It prints `synced` once sync() resolved and `applied <n>` as it applies stream changes, so the test can kill it
 * (SIGKILL) mid-run.
 */
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { createLocalClients } from '@kinesis-archive/local';
import { DynamoDBCheckpointStore, TableReplica } from '../src/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const clients = createLocalClients({ region: env('KA_REGION'), dynamodb: env('KA_DYNAMODB') });
const target = env('KA_TARGET');
let applied = 0;
let synced = false;
const replica = new TableReplica({
  dynamodb: clients.dynamodb,
  streams: clients.dynamodbStreams,
  tableName: env('KA_SOURCE'),
  checkpointStore: new DynamoDBCheckpointStore({
    client: clients.dynamodb,
    tableName: env('KA_CHECKPOINT_TABLE'),
    name: 'replica',
  }),
  apply: async (change) => {
    if (change.type === 'put') {
      await clients.dynamodb.send(new PutItemCommand({ TableName: target, Item: marshall(change.item) }));
    } else {
      await clients.dynamodb.send(new DeleteItemCommand({ TableName: target, Key: marshall(change.keys) }));
    }
    if (synced && change.record) process.stdout.write(`applied ${++applied}\n`);
  },
});
await replica.sync();
synced = true;
process.stdout.write(`synced ${replica.startedFrom}\n`);
replica.stream?.on('error', (error) => process.stderr.write(`${String(error)}\n`));
replica.start({ pollIntervalMs: 50 });
