// A FakeStreams served over HTTP on a loopback port, speaking the DynamoDB Streams JSON protocol, so consumers in
// child processes can share one fake stream (for the lease tests with processes killed by SIGKILL). Test-only.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { FakeStreams } from './fake-streams.js';

const COMMANDS: Record<string, (input: never) => unknown> = {
  DescribeStream: (input) => new DescribeStreamCommand(input),
  GetShardIterator: (input) => new GetShardIteratorCommand(input),
  GetRecords: (input) => new GetRecordsCommand(input),
};

/** Serves `fake`; resolves with its endpoint (`http://127.0.0.1:<port>`) and a close function. */
export async function serveFakeStreams(
  fake: FakeStreams,
): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += String(chunk);
    });
    req.on('end', async () => {
      const op = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const make = COMMANDS[op];
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(payload));
      };
      if (!make) return reply(400, { __type: 'UnknownOperationException', message: op });
      try {
        reply(200, await fake.send(make(JSON.parse(body || '{}') as never)));
      } catch (error) {
        const name = (error as Error).name;
        reply(400, { __type: `com.amazonaws.dynamodb.v20120810#${name}`, message: (error as Error).message });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
