import { createLocalClients, startFaultProxy } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoDBStream } from '../src/index.js';
import { createStreamTable, randomWrites } from './tables.js';

const { clients, endpoints } = localAws();
afterAll(() => clients.destroy());

async function readAll(stream: DynamoDBStream): Promise<string[]> {
  const seen: string[] = [];
  stream.on('record', (r) => {
    seen.push(`${r.sequenceNumber}:${r.eventName}:${String(r.keys.id)}`);
  });
  let before = '';
  let quiet = 0;
  // Polls until the state stays put for a few polls in a row (a poll may fail entirely under faults).
  for (let i = 0; i < 1_000 && quiet < 4; i++) {
    await stream.fetchStreamState();
    const now = JSON.stringify(stream.getShardState());
    quiet = now === before ? quiet + 1 : 0;
    before = now;
  }
  return seen;
}

describe('through the fault proxy', () => {
  it('loses and repeats nothing under throttling, expired iterators, 500s and dropped connections', async () => {
    const { tableName, streamArn } = await createStreamTable(clients.dynamodb);
    await randomWrites(clients.dynamodb, tableName, 500, { seed: 3 });
    const expected = await readAll(
      new DynamoDBStream({ client: clients.dynamodbStreams, streamArn, limit: 50 }),
    );
    expect(expected.length).toBeGreaterThan(300);

    const proxy = await startFaultProxy({
      target: endpoints.dynamodb!,
      seed: 42,
      // Scheduled first, so the assertions below hold whatever the timing: 300+ records at limit 50 take at least 7
      // answered GetRecords, and every faulted one is retried, so the 1st..6th GetRecords always exist.
      rules: [
        { operation: 'GetRecords', fault: 'throttle', at: [1, 3, 5] },
        { operation: 'GetRecords', fault: 'throttle', errorCode: 'ExpiredIteratorException', at: [2, 4, 6] },
        { operation: 'GetRecords', fault: 'throttle', probability: 0.25 },
        {
          operation: 'GetRecords',
          fault: 'throttle',
          errorCode: 'ExpiredIteratorException',
          probability: 0.2,
        },
        { operation: 'GetRecords', fault: 'internal', probability: 0.05 },
        {
          operation: 'GetShardIterator',
          fault: 'throttle',
          errorCode: 'ThrottlingException',
          probability: 0.2,
        },
        {
          operation: 'DescribeStream',
          fault: 'throttle',
          errorCode: 'LimitExceededException',
          probability: 0.2,
        },
        { operation: /GetRecords|DescribeStream/, fault: 'drop', probability: 0.03 },
      ],
    });
    // No SDK retries: every fault reaches the consumer.
    const proxied = createLocalClients(
      { region: endpoints.region, dynamodb: proxy.endpoint },
      { maxAttempts: 1 },
    );
    try {
      const stream = new DynamoDBStream({
        client: proxied.dynamodbStreams,
        streamArn,
        limit: 50,
        retry: { baseDelayMs: 5, maxDelayMs: 50 },
      });
      const errors: Error[] = [];
      stream.on('error', (e) => errors.push(e));
      const seen = await readAll(stream);
      expect(seen).toEqual(expected);
      const counts = proxy.counts();
      const injected = counts.byOperation.GetRecords ?? {};
      expect(Object.values(injected).reduce((a, b) => a + b, 0)).toBeGreaterThan(5);
      // Without expired iterators one GetShardIterator would do: more show the re-opening after the last record.
      expect(counts.byOperation.GetShardIterator?.forwarded ?? 0).toBeGreaterThan(1);
      expect(errors).toEqual([]);
    } finally {
      proxied.destroy();
      await proxy.stop();
    }
  });
});
