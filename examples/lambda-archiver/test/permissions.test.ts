import { createArchiveTable } from '@kinesis-archive/archive';
import type { KinesisStreamEvent } from '@kinesis-archive/core';
import {
  createLocalClients,
  type FaultProxy,
  recordActions,
  startFaultProxy,
  uniqueName,
} from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../src/handler.js';
import { archiverActions } from '../src/permissions.js';
import { eventOf, putInOrder, recordsOver, type Sent, streamWith } from './helpers.js';

const { clients, endpoints } = localAws();
/**
 * The handler's own clients (only what it sends is recorded, not what the test sends to set up); its DynamoDB
 * client goes through a fault proxy, for the paths that only a failed or lost write takes.
 */
let proxy: FaultProxy;
let own: ReturnType<typeof createLocalClients>;
beforeAll(async () => {
  proxy = await startFaultProxy({ target: endpoints.dynamodb!, seed: 7 });
  own = createLocalClients({ ...endpoints, dynamodb: proxy.endpoint });
});
afterAll(async () => {
  clients.destroy();
  own.destroy();
  await proxy.stop();
});

/** Large enough to be stored in chunks (over 350,000 bytes). */
const large = (seed: number): Sent => ({
  partitionKey: 'key-large',
  data: new Uint8Array(500_000).map((_, i) => (i * 7 + seed) % 256),
});

/** A copy of the event whose last record's data is not base64: the handler quarantines it. */
function withPoison(event: KinesisStreamEvent): KinesisStreamEvent {
  const records = event.Records.map((r) => ({ ...r, kinesis: { ...r.kinesis } }));
  const last = records[records.length - 1]!;
  last.kinesis.data = '%%% not base64 %%%';
  return { Records: records };
}

/**
 * Runs the handler as deployed (table, mode and TTL from the environment) on every path: records, a large record,
 * a poison record, a re-delivery, newer records replacing older ones (and a large one replacing a large one), and
 * the older batch delivered again (stale). Returns the actions it sent.
 */
async function actionsSentIn(mode: 'ALL' | 'LATEST'): Promise<string[]> {
  const first = [...recordsOver(60, 6), large(1)];
  const { streamName, arn, event } = await streamWith(clients.kinesis, first);
  const tableName = uniqueName('archive');
  await createArchiveTable(clients.dynamodb, { tableName, mode });
  const handler = createHandler({
    dynamodb: own.dynamodb,
    kinesis: own.kinesis,
    env: { ARCHIVE_TABLE: tableName, ARCHIVE_MODE: mode, ARCHIVE_TTL_SECONDS: '3600' },
    metrics: false,
    logger: { warn: () => {} },
  });
  const recorder = recordActions(own.dynamodb, own.kinesis);
  try {
    expect(await handler(withPoison(event))).toEqual({ batchItemFailures: [] });
    expect(await handler(event)).toEqual({ batchItemFailures: [] }); // a re-delivery, the poison record fixed
    await putInOrder(clients.kinesis, streamName, [...recordsOver(60, 6, 9), large(2)]);
    const both = await eventOf(clients.kinesis, streamName, arn);
    const newer = { Records: both.Records.slice(event.Records.length) };
    expect(await handler(newer)).toEqual({ batchItemFailures: [] });
    expect(await handler(event)).toEqual({ batchItemFailures: [] }); // the older batch again: stale in LATEST

    // A large record whose head write fails or loses its answer: the writer reads the stored head to decide
    // about the chunks.
    const sent = both.Records.length;
    await putInOrder(clients.kinesis, streamName, [large(3)]);
    const last = { Records: (await eventOf(clients.kinesis, streamName, arn)).Records.slice(sent) };
    if (mode === 'ALL') {
      // the chunks are written (1st BatchWriteItem), then the head write is refused for good
      proxy.setRules([
        { operation: 'BatchWriteItem', fault: 'throttle', errorCode: 'AccessDeniedException', at: [2] },
      ]);
      expect((await handler(last)).batchItemFailures).toHaveLength(1);
    } else {
      // the head's answer is lost; the SDK's retry then finds the replace done (its condition fails)
      proxy.setRules([{ operation: 'UpdateItem', fault: 'lost', at: [1] }]);
      expect(await handler(last)).toEqual({ batchItemFailures: [] });
    }
    proxy.setRules([]);
    expect(await handler(last)).toEqual({ batchItemFailures: [] });
  } finally {
    recorder.stop();
  }
  return recorder.actions();
}

describe('the archiver sends exactly the IAM actions listed next to it', () => {
  it.each(['ALL', 'LATEST'] as const)('%s mode, configured from the environment', async (mode) => {
    expect(await actionsSentIn(mode)).toEqual(
      [...archiverActions[mode], ...archiverActions.readingTags].sort(),
    );
  });

  it('reads no tags without a Kinesis client', async () => {
    const { event } = await streamWith(clients.kinesis, [...recordsOver(20, 4), large(1)]);
    const tableName = uniqueName('archive');
    await createArchiveTable(clients.dynamodb, { tableName, mode: 'LATEST' });
    const handler = createHandler({
      dynamodb: own.dynamodb,
      env: { ARCHIVE_TABLE: tableName, ARCHIVE_MODE: 'LATEST' },
      metrics: false,
    });
    const recorder = recordActions(own.dynamodb, own.kinesis);
    expect(await handler(event)).toEqual({ batchItemFailures: [] });
    recorder.stop();
    const listed = new Set<string>(archiverActions.LATEST);
    expect(recorder.actions().filter((action) => !listed.has(action))).toEqual([]);
    expect(recorder.actions()).toContain('dynamodb:UpdateItem');
  });
});
