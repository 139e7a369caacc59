import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArchiveReader, ArchiveWriter, createArchiveTable } from '@kinesis-archive/archive';
import { uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { FileFailureJournal, type JournalEntry, type ReplayCheckpoint, replay } from '../src/index.js';
import { createStream, readStream } from './helpers.js';

const { clients, endpoints } = localAws();
const { kinesis, dynamodb } = clients;
afterAll(() => clients.destroy());

const KILLS = 20;
const WINDOW = 200; // the child's maxUnsettledRecords
const SEGMENTS = 2;

/** A seeded PRNG (mulberry32): the kill moments are the same on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let seq = 0;
function batch(n: number, keys: number) {
  return Array.from({ length: n }, (_, i) => {
    const s = seq++;
    return {
      partitionKey: `user-${(s * 7 + i) % keys}`,
      data: Buffer.from(`r${s}`),
      sequenceNumber: `4${String(s).padStart(55, '0')}`,
      subSequenceNumber: 0,
      aggregated: false as const,
      shardId: 'shardId-000000000000',
    };
  });
}

describe('replay killed (SIGKILL) and resumed while the archive is written to', () => {
  it(`${KILLS} kills at seeded moments: every record of the archive as it was is in the stream, each key in order, duplicates bounded`, async () => {
    const tableName = uniqueName('crash');
    await createArchiveTable(dynamodb, { tableName, mode: 'ALL' });
    const writer = new ArchiveWriter({ dynamodb, tableName, mode: 'ALL' });
    const snapshot = batch(10_000, 150);
    expect((await writer.write(snapshot)).failed).toEqual([]);
    const streamName = await createStream(kinesis, 2);
    const dir = mkdtempSync(join(tmpdir(), 'replay-crash-'));
    const checkpointFile = join(dir, 'checkpoint.json');
    const journalFile = join(dir, 'journal.jsonl');
    const child = fileURLToPath(new URL('./replay-child.ts', import.meta.url));
    const random = prng(12);
    const live: typeof snapshot = [];
    const run = (): ChildProcess =>
      spawn(process.execPath, ['--import', 'tsx', child], {
        env: {
          ...process.env,
          KA_REGION: endpoints.region,
          KA_KINESIS: endpoints.kinesis!,
          KA_DYNAMODB: endpoints.dynamodb!,
          KA_TABLE: tableName,
          KA_STREAM: streamName,
          KA_CHECKPOINT: checkpointFile,
          KA_JOURNAL: journalFile,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    const load = (): ReplayCheckpoint | undefined =>
      existsSync(checkpointFile)
        ? (JSON.parse(readFileSync(checkpointFile, 'utf8')) as ReplayCheckpoint)
        : undefined;
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        // another process (this one) keeps writing to the archive: new records of old keys and of new ones
        const more = batch(50, 200);
        live.push(...more);
        expect((await writer.write(more)).failed).toEqual([]);
        const proc = run();
        let stderr = '';
        proc.stderr?.on('data', (d) => {
          stderr += String(d);
        });
        const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
        const acks = 1 + Math.floor(random() * 6); // kill after this many acknowledged batches
        const reached = new Promise<boolean>((resolve) => {
          let lines = 0;
          let out = '';
          proc.stdout?.on('data', (d) => {
            out += String(d);
            const parts = out.split('\n');
            out = parts.pop() ?? '';
            for (const line of parts) {
              if (line.startsWith('sent ') && ++lines >= acks) resolve(true);
              if (line.startsWith('done ')) resolve(false);
            }
          });
          void exited.then(() => resolve(false));
        });
        const ready = await reached;
        const killed = ready && proc.kill('SIGKILL');
        const code = await exited;
        expect({ kill, ready, killed, code, stderr }).toMatchObject({
          ready: true,
          killed: true,
          code: null,
        });
      }
      expect(Object.values(load()?.units ?? {}).some((c) => !c.done)).toBe(true);
      // then one run to the end, in this process, from the same checkpoint and journal
      const journal = new FileFailureJournal(journalFile);
      const last = await replay({
        source: new ArchiveReader({ dynamodb, tableName, mode: 'ALL' }),
        kinesis,
        streamName,
        totalSegments: SEGMENTS,
        rateLimit: false,
        journal,
        checkpoint: { load, save: () => {} },
      });
      expect(last.ok).toBe(true);
      const journaled: JournalEntry[] = [];
      for await (const e of journal.list()) journaled.push(e);
      const back = await readStream(kinesis, streamName);
      const seen = new Set([
        ...back.map((r) => r.data.toString()),
        ...journaled.map((e) => Buffer.from(e.record.data, 'base64').toString()),
      ]);
      // nothing of the archive as it was is missing
      expect(snapshot.filter((r) => !seen.has(r.data.toString())).map((r) => r.data.toString())).toEqual([]);
      // duplicates only of records in flight at a kill: at most the read window of each segment per kill
      const duplicates = back.length - new Set(back.map((r) => r.data.toString())).size;
      console.log(
        `crash test: ${back.length} records in the stream, ${duplicates} duplicates after ${KILLS} kills`,
      );
      expect(duplicates).toBeLessThanOrEqual(KILLS * SEGMENTS * WINDOW);
      // each key: its records in archive order (first copies), with no failure
      const order = new Map([...snapshot, ...live].map((r) => [r.data.toString(), r.sequenceNumber]));
      const byKey = new Map<string, string[]>();
      for (const r of back) {
        const list = byKey.get(r.partitionKey) ?? [];
        if (!list.includes(r.data.toString())) list.push(r.data.toString());
        byKey.set(r.partitionKey, list);
      }
      for (const [key, list] of byKey) {
        const sorted = [...list].sort((a, b) => (order.get(a)! < order.get(b)! ? -1 : 1));
        expect(list, key).toEqual(sorted);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
