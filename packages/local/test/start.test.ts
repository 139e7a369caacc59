import { createServer, type Server, type Socket } from 'node:net';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  ListStreamsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { uniqueName } from '../src/names.js';
import { freePort } from '../src/ports.js';
import { processIdsOf, startLocalAws, startLocalAwsWith } from '../src/start.js';
import { localAws } from '../src/vitest-setup.js';
import { isAlive } from './helpers.js';

const portOf = (url: string | undefined) => Number(new URL(url ?? 'http://x:0').port);

describe('startLocalAws', { timeout: 120_000 }, () => {
  it('starts both stand-ins on free ports next to the shared ones, and stop() leaves no process', async () => {
    const shared = localAws().endpoints;
    const aws = await startLocalAws();
    const pids = processIdsOf(aws);
    try {
      expect(pids).toHaveLength(4); // two supervisors, java, kinesis-mock
      expect(pids.every(isAlive)).toBe(true);
      const ports = [portOf(aws.endpoints.kinesis), portOf(aws.endpoints.dynamodb)];
      expect(ports.every((p) => p > 0)).toBe(true);
      expect(new Set([...ports, portOf(shared.kinesis), portOf(shared.dynamodb)]).size).toBe(4);
      for (const fixed of [4567, 4568, 8000]) expect(ports).not.toContain(fixed);
      expect(aws.env.AWS_ENDPOINT_URL_KINESIS).toBe(aws.endpoints.kinesis);
      expect(aws.env.AWS_ENDPOINT_URL_DYNAMODB).toBe(aws.endpoints.dynamodb);

      const stream = uniqueName('start');
      await aws.clients.kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 2 }));
      const summary = await aws.clients.kinesis.send(
        new DescribeStreamSummaryCommand({ StreamName: stream }),
      );
      expect(summary.StreamDescriptionSummary?.StreamStatus).toBe('ACTIVE');
      const put = await aws.clients.kinesis.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: [1, 2, 3].map((i) => ({ Data: Buffer.from(`r${i}`), PartitionKey: `k${i}` })),
        }),
      );
      expect(put.FailedRecordCount).toBe(0);
      const tables = await aws.clients.dynamodb.send(new ListTablesCommand({}));
      expect(tables.TableNames).toEqual([]);
    } finally {
      await aws.stop();
    }
    // stop() waits until the supervisors and the stand-ins are gone.
    expect(pids.filter(isAlive)).toEqual([]);
    await aws.stop(); // a second stop is harmless
  });

  it('starts only Kinesis when asked, and its DynamoDB client says the stand-in was not started', async () => {
    const aws = await startLocalAws({ dynamodb: false, region: 'eu-west-1' });
    const pids = processIdsOf(aws);
    try {
      expect(aws.endpoints.dynamodb).toBeUndefined();
      expect(aws.region).toBe('eu-west-1');
      expect(pids).toHaveLength(2);
      await expect(aws.clients.kinesis.send(new ListStreamsCommand({}))).resolves.toBeDefined();
      expect(() => aws.clients.dynamodb).toThrow(/DynamoDB stand-in was not started/);
    } finally {
      await aws.stop();
    }
    expect(pids.filter(isAlive)).toEqual([]);
  });

  it('died resolves with the stand-in that was killed, and stays pending after stop()', async () => {
    const aws = await startLocalAws({ dynamodb: false });
    const [, standIn] = processIdsOf(aws);
    try {
      const early = await Promise.race([aws.died, sleep(200).then(() => 'pending')]);
      expect(early).toBe('pending');
      process.kill(standIn!, 'SIGKILL');
      const died = await aws.died;
      expect(died.name).toBe('kinesis-mock');
      expect(died.exitCode).not.toBe(0);
    } finally {
      await aws.stop();
    }
    const other = await startLocalAws({ dynamodb: false });
    await other.stop();
    expect(await Promise.race([other.died, sleep(500).then(() => 'pending')])).toBe('pending');
  });

  it('a stand-in whose port was taken before it bound it starts again on new ports', async () => {
    // The race the tests of parallel packages run into: a free port is taken by another process between the ask
    // and the bind. Here the first port handed to each stand-in is held by a listener of this test.
    const taken = await listenOnFreePort();
    const takenPort = (taken.address() as { port: number }).port;
    const handed: number[] = [];
    const pickPort = async () => {
      const port = handed.includes(takenPort) ? await freePort() : takenPort;
      handed.push(port);
      return port;
    };
    try {
      const kinesisOnly = await startLocalAwsWith({ dynamodb: false }, pickPort);
      try {
        expect(handed[0]).toBe(takenPort);
        expect(portOf(kinesisOnly.endpoints.kinesis)).not.toBe(takenPort);
        expect(handed.length).toBe(4); // two ports, twice
        expect(processIdsOf(kinesisOnly)).toHaveLength(2); // the process that lost its port is not kept
        await expect(kinesisOnly.clients.kinesis.send(new ListStreamsCommand({}))).resolves.toBeDefined();
        expect(await Promise.race([kinesisOnly.died, sleep(200).then(() => 'pending')])).toBe('pending');
      } finally {
        await kinesisOnly.stop();
      }

      handed.length = 0;
      const dynamoOnly = await startLocalAwsWith({ kinesis: false }, pickPort);
      try {
        expect(handed).toHaveLength(2);
        expect(handed[0]).toBe(takenPort);
        expect(portOf(dynamoOnly.endpoints.dynamodb)).toBe(handed[1]);
        await expect(dynamoOnly.clients.dynamodb.send(new ListTablesCommand({}))).resolves.toBeDefined();
      } finally {
        await dynamoOnly.stop();
      }
    } finally {
      await closeServer(taken);
    }
  });

  it('a stand-in that keeps losing its port fails after five starts, with its output', async () => {
    const taken = await listenOnFreePort();
    const takenPort = (taken.address() as { port: number }).port;
    let handed = 0;
    const pickPort = async () => {
      handed++;
      return takenPort;
    };
    try {
      const error = await startLocalAwsWith({ dynamodb: false }, pickPort).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'STAND_IN_START_FAILED' });
      expect(String((error as Error).message)).toMatch(/address already in use/i);
      expect(handed).toBe(10);
    } finally {
      await closeServer(taken);
    }
  });
});

const openSockets = new WeakMap<Server, Set<Socket>>();

/**
 * A listener on a free loopback port, which a stand-in then cannot bind. It accepts connections and never answers,
 * like a port thief that is not a stand-in: the readiness probe must not hang on it.
 */
function listenOnFreePort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    openSockets.set(server, sockets);
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function closeServer(server: Server): Promise<void> {
  for (const socket of openSockets.get(server) ?? []) socket.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
