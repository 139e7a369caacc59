import {
  createLocalClients,
  createStream,
  recordActions,
  startFaultProxy,
  uniqueName,
} from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, expect, it } from 'vitest';
import { producerActions } from '../src/permissions.js';
import { createProducer } from '../src/producer.js';
import { splitFirstShard, taggedEvents } from './helpers.js';

const { clients, endpoints } = localAws();
afterAll(() => clients.destroy());

it('the producer sends exactly the IAM actions listed next to it', async () => {
  const streamName = uniqueName('producer');
  await createStream(clients.kinesis, streamName, { shards: 1 });
  // The producer's own client (only what it sends is recorded), through a proxy that throttles one request and
  // fails some entries of another.
  const proxy = await startFaultProxy({
    target: endpoints.kinesis!,
    seed: 3,
    rules: [
      { operation: 'PutRecords', fault: 'throttle', at: [1] },
      { operation: 'PutRecords', fault: 'partial', at: [3], entryFailureRate: 0.5 },
    ],
  });
  const own = createLocalClients({ region: endpoints.region, kinesis: proxy.endpoint }, { maxAttempts: 1 });
  const recorder = recordActions(own.kinesis);
  try {
    const producer = createProducer({ kinesis: own.kinesis, streamName, shardMapMaxAgeMs: 3_600_000 });
    expect((await producer.send(taggedEvents('a'))).sent).toBe(200);
    await splitFirstShard(clients.kinesis, streamName);
    const b = await producer.send(taggedEvents('b'));
    expect(b.sent).toBe(200);
    expect(b.resent).toBeGreaterThan(0); // the map was reloaded and sub-records re-sent
    expect(proxy.counts().injected).toMatchObject({ throttle: 1, partial: 1 });
  } finally {
    recorder.stop();
    own.destroy();
    await proxy.stop();
  }
  expect(recorder.actions()).toEqual([...producerActions].sort());
});
