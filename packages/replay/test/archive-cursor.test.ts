import { type ArchiveMode, ArchiveReader, ArchiveWriter, createArchiveTable } from '@kinesis-archive/archive';
import { uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryFailureJournal, type ReplayCursor, replay, replaySegment } from '../src/index.js';
import { byKey, createStream, memoryStore, readStream } from './helpers.js';

const { clients } = localAws();
const { kinesis, dynamodb } = clients;
afterAll(() => clients.destroy());

let seq = 0;
/** `n` archive records over `keys` keys, with growing sequence numbers (so each key's history is in order). */
function records(n: number, keys: number, prefix = 'user') {
  return Array.from({ length: n }, (_, i) => {
    const s = seq++;
    return {
      partitionKey: `${prefix}-${(i * 7) % keys}`,
      data: Buffer.from(`${prefix}-${s}`),
      sequenceNumber: `4${String(s).padStart(55, '0')}`,
      subSequenceNumber: 0,
      aggregated: false as const,
      shardId: 'shardId-000000000000',
    };
  });
}

async function archiveOf(mode: ArchiveMode, input: ReturnType<typeof records>, tombstones = false) {
  const tableName = uniqueName(`rc-${mode.toLowerCase()}`);
  await createArchiveTable(dynamodb, { tableName, mode });
  const writer = new ArchiveWriter({ dynamodb, tableName, mode, tombstones });
  const out = await writer.write(input);
  expect(out.failed).toEqual([]);
  return { writer, reader: new ArchiveReader({ dynamodb, tableName, mode }) };
}

/** Replays with a checkpoint and aborts once `after` records were sent. */
async function interrupted(
  reader: ArchiveReader,
  streamName: string,
  store: ReturnType<typeof memoryStore>,
  after: number,
) {
  const controller = new AbortController();
  return replay({
    source: reader,
    kinesis,
    streamName,
    checkpoint: store,
    signal: controller.signal,
    progressIntervalMs: 0,
    maxUnsettledRecords: 100,
    writer: { maxBatchRecords: 50, concurrency: 1 },
    onProgress: (p) => {
      if (p.sent >= after) controller.abort();
    },
  });
}

describe('resume on a live archive (finding 2)', () => {
  it('ALL: records written between two runs shift nothing: no record of the first snapshot is skipped', async () => {
    const first = records(600, 60);
    const { writer, reader } = await archiveOf('ALL', first);
    const streamName = await createStream(kinesis, 2);
    const store = memoryStore();
    const run1 = await interrupted(reader, streamName, store, 200);
    expect(run1.aborted).toBe(true);
    // the table changes: new records of existing keys and of new keys, all over the key space
    const added = [...records(80, 60), ...records(40, 40, 'late')];
    expect((await writer.write(added)).failed).toEqual([]);
    const run2 = await replay({ source: reader, kinesis, streamName, checkpoint: store });
    expect(run2.ok).toBe(true);
    // it read from the cursor, not from the start
    expect(run2.read).toBeLessThan(600 + 120 - run1.sent + 100);
    const back = await readStream(kinesis, streamName);
    const got = new Set(back.map((r) => r.data.toString()));
    expect(first.filter((r) => !got.has(r.data.toString()))).toEqual([]);
    // each key in archive order; repeats only of the window unsettled at the abort
    expect(back.length - new Set(back.map((r) => r.data.toString())).size).toBeLessThanOrEqual(100);
    const want = byKey([...first, ...added].sort((a, b) => (a.sequenceNumber < b.sequenceNumber ? -1 : 1)));
    for (const [key, list] of byKey(back)) {
      const dedup = list.filter((h, i) => list.indexOf(h) === i);
      const expected = (want.get(key) ?? []).filter((h) => dedup.includes(h));
      expect(dedup, key).toEqual(expected);
    }
  });

  it('LATEST: keys updated between two runs do not break the resume (no CheckpointMismatchError)', async () => {
    const first = records(100, 100);
    const { writer, reader } = await archiveOf('LATEST', first);
    const streamName = await createStream(kinesis, 1);
    const store = memoryStore();
    const run1 = await interrupted(reader, streamName, store, 50);
    expect(run1.aborted).toBe(true);
    const updates = records(100, 100).slice(0, 30); // 30 keys get a newer record
    expect((await writer.write(updates)).failed).toEqual([]);
    const run2 = await replay({ source: reader, kinesis, streamName, checkpoint: store });
    expect(run2.ok).toBe(true);
    const keys = new Set((await readStream(kinesis, streamName)).map((r) => r.partitionKey));
    expect(keys.size).toBe(100); // every key: its value then or its newer one
  });
});

describe('archive scans', () => {
  it('limit counts over every segment (finding 6)', async () => {
    const { reader } = await archiveOf('ALL', records(200, 20));
    const streamName = await createStream(kinesis, 1);
    const result = await replay({ source: reader, kinesis, streamName, totalSegments: 4, limit: 25 });
    expect(result).toMatchObject({ ok: true, read: 25, sent: 25 });
    expect(Object.values(result.cursors).some((c) => !c.done)).toBe(true);
    const old = await replay({ source: reader, kinesis, streamName, totalSegments: 4, scan: { limit: 10 } });
    expect(old.read).toBe(10);
  });

  it('includeTombstones replays deletions as records with empty data (finding 6)', async () => {
    const input = records(30, 10);
    input[29] = { ...input[29]!, data: Buffer.alloc(0) }; // a deletion of its key
    const { reader } = await archiveOf('ALL', input, true);
    const without = await createStream(kinesis, 1);
    expect((await replay({ source: reader, kinesis, streamName: without })).sent).toBe(29);
    const withTombstones = await createStream(kinesis, 1);
    const result = await replay({
      source: reader,
      kinesis,
      streamName: withTombstones,
      scan: { includeTombstones: true },
    });
    expect(result.sent).toBe(30);
    const back = await readStream(kinesis, withTombstones);
    const last = byKey(back).get(input[29]!.partitionKey)!;
    expect(last.at(-1)).toBe('');
  });
});

describe('replaySegment', () => {
  it('16 segments run in budgeted calls, the cursor through JSON, together equal the archive', async () => {
    const input = records(800, 80);
    const { reader } = await archiveOf('ALL', input);
    const streamName = await createStream(kinesis, 2);
    const journal = new MemoryFailureJournal();
    let calls = 0;
    let sent = 0;
    for (let segment = 0; segment < 16; segment++) {
      let cursor: ReplayCursor | undefined;
      for (;;) {
        calls++;
        const out = await replaySegment({
          source: reader,
          segment,
          totalSegments: 16,
          cursor,
          limit: 20, // a small unit of work per call, as a time budget would give
          kinesis,
          streamName,
          journal,
        });
        expect(out.stats.stoppedBy).toBeUndefined();
        sent += out.stats.sent;
        cursor = JSON.parse(JSON.stringify(out.cursor)) as ReplayCursor;
        if (out.done) break;
      }
    }
    expect(calls).toBeGreaterThan(32);
    expect(sent).toBe(800);
    const back = await readStream(kinesis, streamName);
    expect(back).toHaveLength(800);
    expect(byKey(back)).toEqual(byKey(input));
  });

  it('stops reading at its time budget and resumes from its cursor', async () => {
    const { reader } = await archiveOf('ALL', records(300, 30));
    const streamName = await createStream(kinesis, 1);
    const journal = new MemoryFailureJournal();
    const first = await replaySegment({
      source: reader,
      segment: 0,
      totalSegments: 1,
      budgetMs: 1_000,
      kinesis,
      streamName,
      journal,
      // at most 100 + 100/s go out in the budget, and 50 more may be read: the budget ends first
      rateLimit: { recordsPerSecond: 100 },
      maxUnsettledRecords: 50,
    });
    expect(first.done).toBe(false);
    expect(first.stats.read).toBeGreaterThan(0);
    expect(first.stats.read).toBeLessThan(300);
    expect(first.stats.unsent).toBe(0); // what was read was settled before it returned
    expect(first.cursor.after).toBeDefined();
    const second = await replaySegment({
      source: reader,
      segment: 0,
      totalSegments: 1,
      cursor: first.cursor,
      kinesis,
      streamName,
      journal,
    });
    expect(second.done).toBe(true);
    expect(first.stats.sent + second.stats.sent).toBe(300);
    expect(await readStream(kinesis, streamName)).toHaveLength(300);
  });

  it('rejects bad arguments with typed errors', async () => {
    const { reader } = await archiveOf('ALL', records(1, 1));
    const journal = new MemoryFailureJournal();
    const base = { source: reader, kinesis, streamName: 'x', journal };
    await expect(replaySegment({ ...base, segment: 4, totalSegments: 4 })).rejects.toMatchObject({
      code: 'INVALID_REPLAY_OPTION',
    });
    await expect(
      replaySegment({ ...base, segment: 0, totalSegments: 1, journal: undefined as never }),
    ).rejects.toMatchObject({ code: 'INVALID_REPLAY_OPTION', message: /journal/ });
    await expect(
      replaySegment({ ...base, segment: 0, totalSegments: 1, cursor: { after: 3 } as never }),
    ).rejects.toMatchObject({ code: 'INVALID_REPLAY_OPTION', message: /cursor/ });
  });
});
