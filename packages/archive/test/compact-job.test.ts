import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RecordInput } from '@kinesis-archive/agg';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ArchiveReader,
  ArchiveWriter,
  type CompactCheckpoint,
  CompactWriteError,
  compact,
  compactSegment,
} from '../src/index.js';
import { collect, freshTable, rec, seq } from './helpers.js';

const { clients, endpoints } = localAws();
const dynamodb = clients.dynamodb;
afterAll(() => clients.destroy());

const KEYS = 2_000;
const PER_KEY = 10;
const BASE = 1_700_000_000_000;

/** 20,000 records: 10 per key, written in an order that is not their sequence order; some empty. */
function records(): RecordInput[] {
  const out: RecordInput[] = [];
  for (let i = 0; i < KEYS * PER_KEY; i++) {
    const key = `key-${(i * 7919) % KEYS}`;
    const n = (i * 104_729) % (KEYS * PER_KEY);
    out.push({
      ...rec(key, seq(n), n % 97 === 0 ? '' : `v-${n}`),
      approximateArrivalTimestamp: new Date(BASE + ((n * 31) % 100_000)),
    });
  }
  return out;
}

/** The model's LATEST: per key, its record of highest position. */
function latestModel(input: RecordInput[]): Map<string, string> {
  const best = new Map<string, string>();
  for (const r of input) {
    const current = best.get(r.partitionKey);
    if (current === undefined || r.sequenceNumber! > current) best.set(r.partitionKey, r.sequenceNumber!);
  }
  return best;
}

async function tableState(tableName: string): Promise<Map<string, string>> {
  const reader = new ArchiveReader({ dynamodb, tableName, mode: 'LATEST', consistentRead: true });
  const got = await collect(reader.scan({ includeTombstones: true }));
  return new Map(got.map((r) => [r.partitionKey, r.sequenceNumber]));
}

describe('compact: an ALL archive into a LATEST one', () => {
  let source: string;
  let input: RecordInput[];
  beforeAll(async () => {
    source = await freshTable(dynamodb, 'ALL');
    input = records();
    const writer = new ArchiveWriter({ dynamodb, tableName: source, mode: 'ALL', concurrency: 16 });
    const result = await writer.write(input);
    expect(result.written).toBe(KEYS * PER_KEY);
  });

  it('equals the model; run again, the same table and nothing written', async () => {
    const target = await freshTable(dynamodb, 'LATEST');
    const reader = new ArchiveReader({ dynamodb, tableName: source, mode: 'ALL', consistentRead: true });
    const writer = new ArchiveWriter({ dynamodb, tableName: target, mode: 'LATEST' });
    const first = await compact({ source: reader, target: writer, totalSegments: 4 });
    expect(first).toMatchObject({ keys: KEYS, written: KEYS, skippedStale: 0 });
    const model = latestModel(input);
    expect(await tableState(target)).toEqual(model);
    const second = await compact({ source: reader, target: writer, totalSegments: 4 });
    expect(second).toMatchObject({ keys: KEYS, written: 0, skippedStale: KEYS });
    expect(await tableState(target)).toEqual(model);
  });

  it('killed (SIGKILL) three times and resumed from its checkpoint, it still equals the model', async () => {
    const target = await freshTable(dynamodb, 'LATEST');
    const dir = mkdtempSync(join(tmpdir(), 'compact-'));
    const file = join(dir, 'checkpoint.json');
    const child = fileURLToPath(new URL('./compact-child.ts', import.meta.url));
    const run = (): ChildProcess =>
      spawn(process.execPath, ['--import', 'tsx', child], {
        env: {
          ...process.env,
          KA_ENDPOINT: endpoints.dynamodb!,
          KA_REGION: endpoints.region,
          KA_SOURCE: source,
          KA_TARGET: target,
          KA_CHECKPOINT: file,
          KA_HANG_AFTER_SAVES: '3',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    const read = (): CompactCheckpoint | undefined =>
      existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as CompactCheckpoint) : undefined;
    try {
      let before = JSON.stringify(read() ?? null);
      for (let kill = 0; kill < 3; kill++) {
        const proc = run();
        let stderr = '';
        proc.stderr?.on('data', (d) => {
          stderr += String(d);
        });
        const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
        // it says `saved` after its 3rd save, then cannot finish: kill it there, units still writing
        const saved = new Promise<boolean>((resolve) => {
          let out = '';
          proc.stdout?.on('data', (d) => {
            out += String(d);
            if (out.includes('saved')) resolve(true);
          });
          void exited.then(() => resolve(false));
        });
        const ready = await saved;
        const killed = ready && proc.kill('SIGKILL');
        const code = await exited;
        expect({ ready, killed, code, stderr }).toMatchObject({ ready: true, killed: true, code: null });
        const checkpoint = read();
        // it made progress, and the job is not done
        expect(JSON.stringify(checkpoint ?? null)).not.toBe(before);
        expect(checkpoint?.segments.some((s) => s !== 'done')).toBe(true);
        before = JSON.stringify(checkpoint ?? null);
      }
      // then one run to the end, in this process, from the same checkpoint
      const stats = await compact({
        source: new ArchiveReader({ dynamodb, tableName: source, mode: 'ALL', consistentRead: true }),
        target: new ArchiveWriter({ dynamodb, tableName: target, mode: 'LATEST' }),
        totalSegments: 4,
        checkpoint: { load: read, save: () => {} },
      });
      expect(stats.keys).toBeLessThan(KEYS);
      expect(await tableState(target)).toEqual(latestModel(input));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('asOf: the LATEST state at a time equals the reader.asOf of that time', async () => {
    const target = await freshTable(dynamodb, 'LATEST');
    const time = BASE + 50_000;
    const reader = new ArchiveReader({ dynamodb, tableName: source, mode: 'ALL', consistentRead: true });
    const stats = await compact({
      source: reader,
      target: new ArchiveWriter({ dynamodb, tableName: target, mode: 'LATEST' }),
      asOf: time,
      tombstones: true,
    });
    const expected = await collect(reader.asOf(time, { tombstones: true }));
    expect(stats.written).toBe(expected.length);
    expect(stats.absent).toBe(KEYS - expected.length);
    expect(await tableState(target)).toEqual(
      new Map(expected.map((r) => [r.partitionKey, r.sequenceNumber])),
    );
  });

  it('one unit at a time: a budget stops at a key boundary and the cursor resumes after it', async () => {
    const target = await freshTable(dynamodb, 'LATEST');
    const reader = new ArchiveReader({ dynamodb, tableName: source, mode: 'ALL', consistentRead: true });
    const writer = new ArchiveWriter({ dynamodb, tableName: target, mode: 'LATEST' });
    let keys = 0;
    let steps = 0;
    for (let segment = 0; segment < 2; segment++) {
      let cursor: { afterKey: string } | undefined;
      for (;;) {
        const step = await compactSegment({
          source: reader,
          target: writer,
          segment,
          totalSegments: 2,
          cursor,
          budgetMs: 0,
          batchSize: 100,
        });
        steps++;
        keys += step.stats.keys;
        if (step.done) break;
        expect(step.cursor).toBeDefined();
        cursor = step.cursor;
      }
    }
    expect(steps).toBeGreaterThan(4);
    expect(keys).toBe(KEYS);
    expect(await tableState(target)).toEqual(latestModel(input));
  });

  it('a target write that fails stops the work with a typed error and the cursor to resume from', async () => {
    const reader = new ArchiveReader({ dynamodb, tableName: source, mode: 'ALL', consistentRead: true });
    const missing = new ArchiveWriter({
      dynamodb,
      tableName: 'no-such-latest-table',
      mode: 'LATEST',
      retry: { maxAttempts: 1 },
    });
    const error = await compactSegment({
      source: reader,
      target: missing,
      segment: 0,
      totalSegments: 2,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompactWriteError);
    expect((error as CompactWriteError).failures[0]!.error.code).toBe('TABLE_NOT_FOUND');
    expect((error as CompactWriteError).cursor).toBeUndefined();
  });
});
