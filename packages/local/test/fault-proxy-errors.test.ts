import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetRecordsCommand as GetStreamRecordsCommand } from '@aws-sdk/client-dynamodb-streams';
import { CreateStreamCommand, ListStreamsCommand, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalClients } from '../src/clients.js';
import { type FaultProxy, InvalidProxyTargetError, startFaultProxy } from '../src/fault-proxy.js';
import { InvalidFaultRuleError } from '../src/fault-rules.js';
import { uniqueName } from '../src/names.js';
import { localAws } from '../src/vitest-setup.js';
import { rejectionOf } from './helpers.js';

const { endpoints } = localAws();
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function proxyTo(target: string | undefined, rules: Parameters<typeof startFaultProxy>[0]['rules']) {
  const proxy: FaultProxy = await startFaultProxy({ target: target ?? '', seed: 1, rules });
  const clients = createLocalClients(
    { region: endpoints.region, kinesis: proxy.endpoint, dynamodb: proxy.endpoint },
    { maxAttempts: 1 },
  );
  cleanups.push(
    () => proxy.stop(),
    () => clients.destroy(),
  );
  return { proxy, ...clients };
}

describe('fault proxy: errors, drops and latency', () => {
  it('forwards untouched when no rule fires', async () => {
    const { proxy, kinesis } = await proxyTo(endpoints.kinesis, []);
    const stream = uniqueName('plain');
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
    const listed = await kinesis.send(new ListStreamsCommand({}));
    expect(listed.StreamNames).toContain(stream);
    expect(proxy.counts()).toMatchObject({ requests: 2, forwarded: 2, injected: {}, failedEntries: 0 });
  });

  it('throttles Kinesis with a ProvisionedThroughputExceededException the SDK recognises', async () => {
    const { proxy, kinesis } = await proxyTo(endpoints.kinesis, [
      { operation: 'PutRecord', fault: 'throttle', probability: 1 },
    ]);
    const error = await rejectionOf(
      kinesis.send(new PutRecordCommand({ StreamName: 'any', Data: Buffer.from('x'), PartitionKey: 'k' })),
    );
    expect(error.name).toBe('ProvisionedThroughputExceededException');
    expect((error.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(400);
    expect(error.message).toMatch(/Rate exceeded/);
    // Other operations are not matched by the rule.
    await expect(kinesis.send(new ListStreamsCommand({}))).resolves.toBeDefined();
    expect(proxy.counts().injected).toEqual({ throttle: 1 });
    expect(proxy.counts().byOperation.PutRecord).toEqual({ requests: 1, throttle: 1 });
  });

  it('throttles DynamoDB with ThrottlingException and Streams with ExpiredIteratorException', async () => {
    const { proxy, dynamodb, dynamodbStreams } = await proxyTo(endpoints.dynamodb, [
      { operation: 'ListTables', fault: 'throttle', probability: 1, errorCode: 'ThrottlingException' },
      { operation: /^GetRecords$/, fault: 'throttle', probability: 1, errorCode: 'ExpiredIteratorException' },
    ]);
    const throttled = await rejectionOf(dynamodb.send(new ListTablesCommand({})));
    expect(throttled.name).toBe('ThrottlingException');
    const expired = await rejectionOf(
      dynamodbStreams.send(new GetStreamRecordsCommand({ ShardIterator: 'x'.repeat(20) })),
    );
    expect(expired.name).toBe('ExpiredIteratorException');
    expect(proxy.counts().injected).toEqual({ throttle: 2 });
  });

  it('lost: the request is carried out, and its answer never arrives', async () => {
    const { proxy, kinesis } = await proxyTo(endpoints.kinesis, [
      { operation: 'CreateStream', fault: 'lost', at: [1] },
    ]);
    const stream = uniqueName('lost');
    const error = await rejectionOf(
      kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 })),
    );
    expect(error.name).not.toBe('ResourceInUseException');
    // the stream was created all the same
    const listed = await kinesis.send(new ListStreamsCommand({}));
    expect(listed.StreamNames).toContain(stream);
    expect(proxy.counts().injected).toEqual({ lost: 1 });
    expect(proxy.counts().forwarded).toBe(2);
  });

  it('answers 500 InternalFailure (Kinesis) and InternalServerError (DynamoDB)', async () => {
    const k = await proxyTo(endpoints.kinesis, [{ fault: 'internal', probability: 1 }]);
    const kinesisError = await rejectionOf(k.kinesis.send(new ListStreamsCommand({})));
    expect(kinesisError.name).toBe('InternalFailure');
    expect((kinesisError.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(500);
    const d = await proxyTo(endpoints.dynamodb, [{ fault: 'internal', probability: 1 }]);
    const dynamoError = await rejectionOf(d.dynamodb.send(new ListTablesCommand({})));
    expect(dynamoError.name).toBe('InternalServerError');
    expect((dynamoError.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(500);
    expect(k.proxy.counts().forwarded + d.proxy.counts().forwarded).toBe(0);
  });

  it('drops the connection without an answer', async () => {
    const { proxy, kinesis } = await proxyTo(endpoints.kinesis, [{ fault: 'drop', probability: 1 }]);
    const error = await rejectionOf(kinesis.send(new ListStreamsCommand({})));
    expect(`${error.name} ${error.message} ${String(error.code)}`).toMatch(/ECONNRESET|socket hang up/);
    expect(proxy.counts()).toMatchObject({ requests: 1, forwarded: 0, injected: { drop: 1 } });
  });

  it('delays by latencyMs, then forwards; latency rules add up with a later fault', async () => {
    const { proxy, kinesis } = await proxyTo(endpoints.kinesis, [
      { operation: 'ListStreams', fault: 'latency', probability: 1, latencyMs: 300 },
      { operation: 'ListStreams', fault: 'latency', probability: 1, latencyMs: 1_500, maxCount: 1 },
    ]);
    let started = Date.now();
    await kinesis.send(new ListStreamsCommand({}));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_790);
    started = Date.now();
    await kinesis.send(new ListStreamsCommand({}));
    const second = Date.now() - started;
    expect(second).toBeGreaterThanOrEqual(290);
    // Only the 300 ms rule fired: 1.5 s of room before the second rule's delay would show (a loaded machine).
    expect(second).toBeLessThan(1_790);
    proxy.setRules([
      { fault: 'latency', probability: 1, latencyMs: 100 },
      { fault: 'throttle', probability: 1 },
    ]);
    started = Date.now();
    const error = await rejectionOf(kinesis.send(new ListStreamsCommand({})));
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(error.name).toBe('ProvisionedThroughputExceededException');
    expect(proxy.counts()).toMatchObject({
      requests: 3,
      forwarded: 2,
      injected: { latency: 4, throttle: 1 },
    });
  });

  it('stops a rule after maxCount injections, and setRules changes faults mid-test', async () => {
    const { proxy, kinesis } = await proxyTo(endpoints.kinesis, [
      { fault: 'internal', probability: 1, maxCount: 2 },
    ]);
    await rejectionOf(kinesis.send(new ListStreamsCommand({})));
    await rejectionOf(kinesis.send(new ListStreamsCommand({})));
    await expect(kinesis.send(new ListStreamsCommand({}))).resolves.toBeDefined();
    proxy.setRules([{ fault: 'throttle', probability: 1 }]);
    expect((await rejectionOf(kinesis.send(new ListStreamsCommand({})))).name).toBe(
      'ProvisionedThroughputExceededException',
    );
    proxy.setRules([]);
    await expect(kinesis.send(new ListStreamsCommand({}))).resolves.toBeDefined();
    expect(proxy.counts()).toMatchObject({
      requests: 5,
      forwarded: 2,
      injected: { internal: 2, throttle: 1 },
    });
  });

  it('rejects malformed rules and targets with typed errors', async () => {
    const target = endpoints.kinesis ?? '';
    await expect(startFaultProxy({ target: 'not a url' })).rejects.toBeInstanceOf(InvalidProxyTargetError);
    await expect(startFaultProxy({ target: 'https://127.0.0.1:1' })).rejects.toThrow(/http:\/\/ URL/);
    const bad: Parameters<typeof startFaultProxy>[0]['rules'][] = [
      [{ fault: 'throttle', probability: 1.5 }],
      [{ fault: 'throttle', probability: Number.NaN }],
      [{ fault: 'explode' as 'drop', probability: 1 }],
      [{ fault: 'partial', probability: 1, entryFailureRate: -0.1 }],
      [{ fault: 'latency', probability: 1, latencyMs: -5 }],
      [{ fault: 'drop', probability: 1, maxCount: 1.5 }],
      [{ fault: 'throttle', probability: 1, errorCode: 'not an error name' }],
    ];
    for (const rules of bad) {
      await expect(startFaultProxy({ target, rules })).rejects.toBeInstanceOf(InvalidFaultRuleError);
    }
    const { proxy } = await proxyTo(target, []);
    expect(() => proxy.setRules([{ fault: 'drop', probability: 2 }])).toThrow(
      /probability must be a number from 0 to 1/,
    );
  });

  it('stop() closes open connections, even one held by a pending latency fault', async () => {
    const proxy = await startFaultProxy({
      target: endpoints.kinesis ?? '',
      rules: [{ fault: 'latency', probability: 1, latencyMs: 30_000 }],
    });
    const clients = createLocalClients(
      { region: endpoints.region, kinesis: proxy.endpoint, dynamodb: proxy.endpoint },
      { maxAttempts: 1 },
    );
    cleanups.push(() => clients.destroy());
    const pending = rejectionOf(clients.kinesis.send(new ListStreamsCommand({})));
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await proxy.stop();
    expect(Date.now() - started).toBeLessThan(5_000); // closes the open connection instead of waiting for it
    expect((await pending).message).toMatch(/socket hang up|ECONNRESET|ECONNREFUSED/);
    await proxy.stop();
  });
});
