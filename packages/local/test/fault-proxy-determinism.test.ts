import { CreateStreamCommand, ListStreamsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { createLocalClients } from '../src/clients.js';
import { startFaultProxy } from '../src/fault-proxy.js';
import type { FaultRule } from '../src/fault-rules.js';
import { uniqueName } from '../src/names.js';
import { localAws } from '../src/vitest-setup.js';

const { endpoints } = localAws();

const rules: FaultRule[] = [
  { operation: 'ListStreams', fault: 'throttle', probability: 0.3 },
  { operation: 'ListStreams', fault: 'internal', probability: 0.2 },
  { operation: 'PutRecords', fault: 'partial', probability: 0.7, entryFailureRate: 0.3 },
];

/** Runs the same requests one after the other and records what each one saw. */
async function run(seed: number) {
  const proxy = await startFaultProxy({ target: endpoints.kinesis ?? '', seed, rules });
  const { kinesis, destroy } = createLocalClients(
    { region: endpoints.region, kinesis: proxy.endpoint, dynamodb: proxy.endpoint },
    { maxAttempts: 1 },
  );
  try {
    const outcomes: string[] = [];
    for (let i = 0; i < 25; i++) {
      outcomes.push(
        await kinesis.send(new ListStreamsCommand({ Limit: 1 })).then(
          () => 'ok',
          (e: Error) => e.name,
        ),
      );
    }
    const stream = uniqueName('seed');
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
    const failedIndexes: number[][] = [];
    for (let i = 0; i < 5; i++) {
      const put = await kinesis.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: Array.from({ length: 10 }, (_, j) => ({
            Data: Buffer.from(`${i}-${j}`),
            PartitionKey: `${j}`,
          })),
        }),
      );
      failedIndexes.push((put.Records ?? []).flatMap((r, j) => (r.ErrorCode ? [j] : [])));
    }
    return { outcomes, failedIndexes, counts: proxy.counts() };
  } finally {
    destroy();
    await proxy.stop();
  }
}

describe('fault proxy: determinism and counts', () => {
  it('gives the same faults for the same seed, and different ones for another seed', async () => {
    const first = await run(42);
    const again = await run(42);
    const other = await run(43);
    expect(again.outcomes).toEqual(first.outcomes);
    expect(again.failedIndexes).toEqual(first.failedIndexes);
    expect(again.counts).toEqual(first.counts);
    expect(other.outcomes).not.toEqual(first.outcomes);
    // The mix is really mixed: successes, both error kinds, and partial failures.
    expect(new Set(first.outcomes)).toEqual(
      new Set(['ok', 'ProvisionedThroughputExceededException', 'InternalFailure']),
    );
    expect(first.failedIndexes.some((f) => f.length > 0)).toBe(true);
  });

  it('counts exactly what the client saw', async () => {
    const { outcomes, failedIndexes, counts } = await run(7);
    const throttled = outcomes.filter((o) => o === 'ProvisionedThroughputExceededException').length;
    const internal = outcomes.filter((o) => o === 'InternalFailure').length;
    const partial = failedIndexes.filter((f) => f.length > 0).length;
    const failedEntries = failedIndexes.reduce((n, f) => n + f.length, 0);
    expect(counts.requests).toBe(25 + 1 + 5);
    expect(counts.forwarded).toBe(25 - throttled - internal + 1 + 5); // partial batches forward their kept part
    expect(counts.injected).toEqual({
      ...(throttled ? { throttle: throttled } : {}),
      ...(internal ? { internal } : {}),
      ...(partial ? { partial } : {}),
    });
    expect(counts.failedEntries).toBe(failedEntries);
    expect(counts.byOperation.ListStreams?.requests).toBe(25);
    expect(counts.byOperation.PutRecords).toMatchObject({ requests: 5, forwarded: 5 });
    expect(counts.byOperation.CreateStream).toEqual({ requests: 1, forwarded: 1 });
  });
});
