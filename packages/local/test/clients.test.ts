import { createServer, type Socket } from 'node:net';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { expect, it } from 'vitest';
import { createLocalClients } from '../src/clients.js';

it('a request that gets no answer fails after requestTimeoutMs instead of waiting for ever', async () => {
  // a loopback port that accepts connections and never answers
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const clients = createLocalClients(
    { region: 'us-east-1', kinesis: url, dynamodb: url },
    { maxAttempts: 1, requestTimeoutMs: 300 },
  );
  try {
    const started = Date.now();
    const [kinesis, dynamodb] = await Promise.allSettled([
      clients.kinesis.send(new ListStreamsCommand({})),
      clients.dynamodb.send(new ListTablesCommand({})),
    ]);
    expect(kinesis).toMatchObject({ status: 'rejected', reason: { name: 'TimeoutError' } });
    expect(dynamodb).toMatchObject({ status: 'rejected', reason: { name: 'TimeoutError' } });
    expect(Date.now() - started).toBeLessThan(30_000); // 300 ms, with room for a loaded machine
  } finally {
    clients.destroy();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
