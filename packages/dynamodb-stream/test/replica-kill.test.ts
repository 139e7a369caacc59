import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { seededRandom, uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoDBCheckpointStore, TableReplica } from '../src/index.js';
import { onLines } from './child-output.js';
import { createStreamTable, randomWrites, scanTable } from './tables.js';

const { clients, endpoints } = localAws();
afterAll(() => clients.destroy());

const KILLS = 5;
const WRITES = 2_000;

describe('a replica killed (SIGKILL) and restarted while the table is written to', () => {
  it(`${KILLS} kills over ${WRITES} random writes: the replica equals the table`, async () => {
    const { tableName: source } = await createStreamTable(clients.dynamodb);
    const target = uniqueName('target');
    await clients.dynamodb.send(
      new CreateTableCommand({
        TableName: target,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const checkpointTable = uniqueName('ckpt');
    await DynamoDBCheckpointStore.createTable(clients.dynamodb, checkpointTable);
    await randomWrites(clients.dynamodb, source, 200, { seed: 1 }); // a table that exists before the replica
    const child = fileURLToPath(new URL('./replica-child.ts', import.meta.url));
    const random = seededRandom(5);
    const run = (): ChildProcess =>
      spawn(process.execPath, ['--import', 'tsx', child], {
        env: {
          ...process.env,
          KA_REGION: endpoints.region,
          KA_DYNAMODB: endpoints.dynamodb!,
          KA_SOURCE: source,
          KA_TARGET: target,
          KA_CHECKPOINT_TABLE: checkpointTable,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });

    const starts: string[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const proc = run();
      let stderr = '';
      proc.stderr?.on('data', (d) => {
        stderr += String(d);
      });
      const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
      const after = 5 + Math.floor(random() * 40); // kill after this many applied stream changes
      let synced!: () => void;
      const isSynced = new Promise<void>((resolve) => {
        synced = resolve;
      });
      const reached = new Promise<boolean>((resolve) => {
        onLines(proc.stdout, (line) => {
          if (line.startsWith('synced ')) {
            starts.push(line.slice(7));
            synced();
          }
          if (line.startsWith('applied ') && Number(line.slice(8)) >= after) resolve(true);
        });
        void exited.then(() => resolve(false));
      });
      await Promise.race([isSynced, exited]);
      // The table is written to while the replica runs; the kill comes mid-stream.
      const writing = randomWrites(clients.dynamodb, source, (WRITES - 200) / KILLS, {
        seed: 100 + kill,
        concurrency: 4,
      });
      const ready = await reached;
      const killed = ready && proc.kill('SIGKILL');
      const code = await exited;
      await writing;
      expect({ kill, ready, killed, code, stderr }).toMatchObject({ ready: true, killed: true, code: null });
    }
    // The first run scanned; every restart resumed from the checkpoint.
    expect(starts).toEqual(['scan', ...Array.from({ length: KILLS - 1 }, () => 'checkpoint')]);

    // One last run in this process, to the end of the stream.
    const last = new TableReplica({
      dynamodb: clients.dynamodb,
      streams: clients.dynamodbStreams,
      tableName: source,
      checkpointStore: new DynamoDBCheckpointStore({
        client: clients.dynamodb,
        tableName: checkpointTable,
        name: 'replica',
      }),
      apply: async (change) => {
        if (change.type === 'put') {
          await clients.dynamodb.send(new PutItemCommand({ TableName: target, Item: marshall(change.item) }));
        } else {
          await clients.dynamodb.send(
            new DeleteItemCommand({ TableName: target, Key: marshall(change.keys) }),
          );
        }
      },
    });
    await last.sync();
    expect(last.startedFrom).toBe('checkpoint');
    const table = await scanTable(clients.dynamodb, source);
    expect(table.size).toBeGreaterThan(50);
    expect(await scanTable(clients.dynamodb, target)).toEqual(table);
  }, 180_000);
});
