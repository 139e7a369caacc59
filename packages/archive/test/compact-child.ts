/**
 * A compaction in a process of its own, for the kill-and-resume test: compacts KA_SOURCE (ALL) into KA_TARGET
 * (LATEST) on the DynamoDB at KA_ENDPOINT, saving its checkpoint to the file KA_CHECKPOINT after every unit. After
 * KA_HANG_AFTER_SAVES saves it prints `saved` and its next saves never return, so it cannot finish on its own: the
 * test kills it there, with units still at work.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ArchiveReader, ArchiveWriter, type CompactCheckpoint, compact } from '../src/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const file = env('KA_CHECKPOINT');
const hangAfter = Number(env('KA_HANG_AFTER_SAVES'));
let saves = 0;
const dynamodb = new DynamoDBClient({
  endpoint: env('KA_ENDPOINT'),
  region: env('KA_REGION'),
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
await compact({
  source: new ArchiveReader({ dynamodb, tableName: env('KA_SOURCE'), mode: 'ALL', consistentRead: true }),
  target: new ArchiveWriter({ dynamodb, tableName: env('KA_TARGET'), mode: 'LATEST' }),
  totalSegments: 4,
  stepMs: 1,
  batchSize: 50,
  checkpoint: {
    load: () => {
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as CompactCheckpoint;
      } catch {
        return undefined;
      }
    },
    save: (checkpoint) => {
      if (saves >= hangAfter) return new Promise<void>(() => {});
      // written whole or not at all: a kill never leaves half a checkpoint
      writeFileSync(`${file}.tmp`, JSON.stringify(checkpoint));
      renameSync(`${file}.tmp`, file);
      if (++saves === hangAfter) process.stdout.write('saved\n');
    },
  },
});
dynamodb.destroy();
