import { createServer } from 'node:net';

/**
 * Asks the OS for a free TCP port on the loopback interface. The port is free when asked for: another process can
 * take it before yours binds it, so be ready to ask again ({@link startLocalAws} starts a stand-in that lost its
 * port again on new ones).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not determine a free port'));
      });
    });
  });
}
