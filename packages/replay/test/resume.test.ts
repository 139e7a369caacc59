import { createLocalClients, startFaultProxy } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { type ReplayCheckpoint, type ReplayRecord, replay } from '../src/index.js';
import {
  byKey,
  createStream,
  expectSameContent,
  iterate,
  makeRecords,
  memoryStore,
  readStream,
  settledCount,
} from './helpers.js';

const { clients, endpoints } = localAws();
const kinesis = clients.kinesis;
afterAll(() => clients.destroy());

/** Runs a replay that aborts itself once `after` records are sent; returns the checkpoint saved at that moment. */
async function interrupted(
  records: ReplayRecord[],
  streamName: string,
  store: ReturnType<typeof memoryStore>,
) {
  const controller = new AbortController();
  let atAbort: ReplayCheckpoint | undefined;
  const result = await replay({
    source: iterate(records),
    kinesis,
    streamName,
    checkpoint: store,
    signal: controller.signal,
    progressIntervalMs: 0,
    writer: { maxBatchRecords: 100, concurrency: 1, maxBufferedRecords: 200 },
    onProgress: (p) => {
      if (p.sent >= 300 && !controller.signal.aborted) {
        atAbort = store.saved.at(-1);
        controller.abort();
      }
    },
  });
  return { result, atAbort };
}

/** Asserts that the stream is the source, each key in order, where a prefix of a key's history may repeat. */
function expectOrderedWithReplays(source: ReplayRecord[], got: { partitionKey: string; data: Uint8Array }[]) {
  const want = byKey(source);
  const have = byKey(got);
  for (const [key, list] of want) {
    const seen = have.get(key) ?? [];
    // Each key: a run, then the same run resumed from an earlier point (duplicates only where it restarted).
    const dedup: string[] = [];
    for (const hex of seen) {
      if (dedup.includes(hex)) continue;
      dedup.push(hex);
    }
    expect(dedup, key).toEqual(list);
  }
}

describe('resume', () => {
  it('after an abort, resumes where it stopped: every record exactly once', async () => {
    const streamName = await createStream(kinesis, 2);
    const records = makeRecords(1_000, 200, 50);
    const store = memoryStore();
    const first = await interrupted(records, streamName, store);
    expect(first.result.aborted).toBe(true);
    expect(first.result.ok).toBe(false);
    expect(first.result.failed).toEqual([]);
    expect(first.result.sent).toBeLessThan(1_000);
    expect(settledCount(store.saved.at(-1)!)).toBe(first.result.sent);
    expect(first.result.unsent).toHaveLength(first.result.read - first.result.sent);

    const second = await replay({ source: iterate(records), kinesis, streamName, checkpoint: store });
    expect(second.ok).toBe(true);
    expect(second.skipped).toBe(first.result.sent);
    expect(second.sent).toBe(1_000 - first.result.sent);
    expect(settledCount(store.saved.at(-1)!)).toBe(1_000);
    expect(store.saved.at(-1)!.units.iterable?.done).toBe(true);
    expectSameContent(records, await readStream(kinesis, streamName));
  });

  it('after a crash (checkpoint as saved before the last batch was acknowledged), re-sends at most that batch', async () => {
    const streamName = await createStream(kinesis, 2);
    const records = makeRecords(1_000, 200, 50);
    const store = memoryStore();
    const { atAbort } = await interrupted(records, streamName, store);
    expect(atAbort).toBeDefined();
    const crashed = memoryStore();
    crashed.saved.push(atAbort!);
    const second = await replay({ source: iterate(records), kinesis, streamName, checkpoint: crashed });
    expect(second.ok).toBe(true);
    const back = await readStream(kinesis, streamName);
    expect(back.length - records.length).toBeGreaterThanOrEqual(0);
    expect(back.length - records.length).toBeLessThanOrEqual(100); // one batch of maxBatchRecords
    expectOrderedWithReplays(records, back);
  });

  it('refuses to resume on a source that does not match the checkpoint, sending nothing', async () => {
    const streamName = await createStream(kinesis, 1);
    const records = makeRecords(20, 5);
    const store = memoryStore();
    store.saved.push({
      version: 2,
      units: {
        iterable: { after: { index: 9, partitionKey: 'someone-else', sequenceNumber: '1' }, done: false },
      },
    });
    const result = await replay({ source: records, kinesis, streamName, checkpoint: store });
    expect(result.stoppedBy).toMatchObject({ code: 'CHECKPOINT_MISMATCH' });
    expect(result.sent).toBe(0);
    expect(await readStream(kinesis, streamName)).toHaveLength(0);
  });

  it('rejects, before sending, a checkpoint of the earlier format or of other units', async () => {
    const streamName = await createStream(kinesis, 1);
    const old = memoryStore();
    old.saved.push({ position: 10 } as unknown as ReplayCheckpoint);
    await expect(
      replay({ source: makeRecords(20, 5), kinesis, streamName, checkpoint: old }),
    ).rejects.toMatchObject({ code: 'CHECKPOINT_MISMATCH', message: /earlier format/ });
    const other = memoryStore();
    other.saved.push({ version: 2, units: { 'iterable:0/4': { done: false } } });
    await expect(
      replay({ source: makeRecords(20, 5), kinesis, streamName, checkpoint: other }),
    ).rejects.toMatchObject({ code: 'CHECKPOINT_MISMATCH', message: /iterable:0\/4/ });
    expect(await readStream(kinesis, streamName)).toHaveLength(0);
  });
});

describe('segments of a plain iterable', () => {
  it('together cover the source exactly once, each key in order', async () => {
    const streamName = await createStream(kinesis, 2);
    const records = makeRecords(600, 60, 40);
    const results = await Promise.all(
      [0, 1, 2, 3].map((segment) =>
        replay({ source: iterate(records), kinesis, streamName, segment, totalSegments: 4 }),
      ),
    );
    expect(results.reduce((n, r) => n + r.read, 0)).toBe(600);
    expect(results.every((r) => r.ok && r.read > 0 && r.read < 600)).toBe(true);
    expectSameContent(records, await readStream(kinesis, streamName));
  });
});

describe('resume on a source that shrank', () => {
  it('refuses to resume when the source ends before the checkpoint position (records would be skipped unseen)', async () => {
    const streamName = await createStream(kinesis, 1);
    const records = makeRecords(100, 10);
    const store = memoryStore();
    // A first run replayed 60 records; then the oldest 50 expired from the source, so it now reads 50.
    store.saved.push({
      version: 2,
      units: {
        iterable: {
          after: {
            index: 59,
            partitionKey: records[59]!.partitionKey,
            sequenceNumber: records[59]!.sequenceNumber,
          },
          done: false,
        },
      },
    });
    const shrunk = records.slice(50);
    const result = await replay({ source: iterate(shrunk), kinesis, streamName, checkpoint: store });
    expect(result.stoppedBy).toMatchObject({ code: 'CHECKPOINT_MISMATCH' });
    expect(await readStream(kinesis, streamName)).toHaveLength(0);
  });
});

describe('resume after a crash while a record was being retried', () => {
  it('re-sends at most the read window (maxUnsettledRecords), not every record acknowledged after the retried one', async () => {
    const streamName = await createStream(kinesis, 1);
    // One entry of the first request fails; its retry waits ~3 s while the later records (other keys) go on.
    const proxy = await startFaultProxy({
      target: endpoints.kinesis!,
      seed: 1,
      rules: [
        { operation: 'PutRecords', fault: 'partial', probability: 1, entryFailureRate: 0, maxCount: 1 },
      ],
    });
    const proxied = createLocalClients({ region: endpoints.region, kinesis: proxy.endpoint });
    try {
      const records = makeRecords(400, 40, 50);
      const store = memoryStore();
      let atCrash: ReplayCheckpoint | undefined;
      const controller = new AbortController();
      const first = await replay({
        source: iterate(records),
        kinesis: proxied.kinesis,
        streamName,
        rateLimit: false,
        checkpoint: store,
        signal: controller.signal,
        progressIntervalMs: 0,
        maxUnsettledRecords: 100,
        writer: {
          maxBatchRecords: 50,
          maxBufferedRecords: 60,
          concurrency: 1,
          retry: { baseDelayMs: 3_000, maxDelayMs: 3_000, random: () => 0.99 },
        },
        onProgress: (p) => {
          // the window is full behind the retried record: nothing more is read until it settles
          if (p.sent >= 99 && !atCrash) {
            atCrash = structuredClone(
              store.saved.at(-1) ?? { version: 2, units: { iterable: { done: false } } },
            );
            controller.abort();
          }
        },
      });
      expect(first.aborted).toBe(true);
      expect(first.failed).toEqual([]);
      expect(first.retries).toBe(1);
      expect(atCrash).toBeDefined();
      // The process died there: resume from the checkpoint it had saved.
      const crashed = memoryStore();
      crashed.saved.push(atCrash!);
      const second = await replay({ source: iterate(records), kinesis, streamName, checkpoint: crashed });
      expect(second.ok).toBe(true);
      const back = await readStream(kinesis, streamName);
      expect(back.length - records.length).toBeGreaterThanOrEqual(0);
      expect(back.length - records.length).toBeLessThanOrEqual(100); // the read window
      expectOrderedWithReplays(records, back);
    } finally {
      proxied.destroy();
      await proxy.stop();
    }
  });
});
