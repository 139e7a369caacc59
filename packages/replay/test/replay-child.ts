/**
 * A replay in a process of its own, for the kill-and-resume test: replays the ALL archive KA_TABLE into the
 * stream KA_STREAM (the stand-ins at KA_DYNAMODB and KA_KINESIS), in 2 scan segments, resuming from the checkpoint
 * file KA_CHECKPOINT and journaling failures to KA_JOURNAL. It prints `sent <n>` as records are acknowledged, so
 * the test can kill it (SIGKILL) mid-job.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ArchiveReader } from '@kinesis-archive/archive';
import { createLocalClients } from '@kinesis-archive/local';
import { FileFailureJournal, type ReplayCheckpoint, replay } from '../src/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const file = env('KA_CHECKPOINT');
const clients = createLocalClients({
  region: env('KA_REGION'),
  kinesis: env('KA_KINESIS'),
  dynamodb: env('KA_DYNAMODB'),
});
const result = await replay({
  source: new ArchiveReader({ dynamodb: clients.dynamodb, tableName: env('KA_TABLE'), mode: 'ALL' }),
  kinesis: clients.kinesis,
  streamName: env('KA_STREAM'),
  totalSegments: 2,
  rateLimit: false,
  maxUnsettledRecords: 200,
  writer: { maxBatchRecords: 50 },
  journal: new FileFailureJournal(env('KA_JOURNAL')),
  progressIntervalMs: 0,
  onProgress: (p) => process.stdout.write(`sent ${p.sent}\n`),
  checkpoint: {
    load: () => {
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as ReplayCheckpoint;
      } catch {
        return undefined;
      }
    },
    save: (checkpoint) => {
      // written whole or not at all: a kill never leaves half a checkpoint
      writeFileSync(`${file}.tmp`, JSON.stringify(checkpoint));
      renameSync(`${file}.tmp`, file);
    },
  },
});
process.stdout.write(`done ${JSON.stringify({ ok: result.ok, sent: result.sent })}\n`);
clients.destroy();
