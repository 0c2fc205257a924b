import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';

const open: Server[] = [];
// Registered when a test file imports this module (top level: the file's root), so that it runs
// once every test of the file is done, however many servers they started.
after(async () => {
  for (const server of open.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/**
 * A plain node:http server on a free loopback port (a plugin written without plugwire), closed
 * with its connections when the test file's tests are done. Resolves with its origin,
 * `http://127.0.0.1:<port>`.
 */
export async function loopbackHttp(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  open.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
